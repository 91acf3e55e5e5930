"""A short GRPO run on CPU end to end: the run directory holds what the extension reads."""
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed for this Python (run bash scripts/setup.sh)")

from rollout_engine import demo_data  # noqa: E402
from rollout_engine.config import load_config  # noqa: E402
from rollout_engine.pretrain import BaseSettings, build_base  # noqa: E402
from rollout_engine.train import train  # noqa: E402


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_base(BaseSettings(steps=3, corpus_size=300, batch_size=4, seq_len=64, n_embd=32, n_head=2), tmp_path_factory.mktemp("base"), log=lambda _: None)


def write_run(tmp_path, base, extra=""):
    rows = demo_data.generate(seed=1, train=40, eval_seen=20, eval_unseen_values=8, eval_unseen_tools=8)
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows["train"]))
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows["eval-unseen-tools"]))
    (tmp_path / "run.toml").write_text(f"""
[data]
train = "{tmp_path / 'train.jsonl'}"
eval = "{tmp_path / 'eval.jsonl'}"
[policy]
model = "{base}"
max_new_tokens = 12
[reward]
preset = "tool-zero"
[grpo]
num_generations = 3
prompts_per_step = 2
max_steps = 2
beta = 0.01
{extra}
""")
    return load_config(tmp_path / "run.toml")


def test_a_short_run_writes_the_run_directory(tmp_path, base, capsys):
    config = write_run(tmp_path, base)
    summary = train(config, tmp_path / "run", "run")
    run = tmp_path / "run"
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished" and info["step"] == 2 and info["reward_versions"]
    assert (run / "rewards" / f"{info['reward_versions'][0]}.json").exists()
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2]
    for key in ("reward", "components", "format_pass_rate", "parse_failure_rate", "exact_match_rate", "reward_failures", "zero_variance_groups",
                "advantage", "kl", "entropy", "clip_fraction", "completion_length", "truncation_rate", "tokens_per_s", "time_s"):
        assert key in metrics[0], key
    assert set(metrics[0]["time_s"]) == {"rollout", "reward", "update", "write"}
    assert set(metrics[0]["components"]) == {"format", "strict", "general"}
    records = [json.loads(line) for line in (run / "rollouts" / "step-000001.jsonl").read_text().splitlines()]
    assert len(records) == 2 * 3
    assert {r["sample"] for r in records} == {0, 1, 2} and all(r["reward_version"] == info["reward_versions"][0] for r in records)
    for field in ("prompt_id", "group", "policy_version", "prompt", "completion", "calls", "parse_failure", "ground_truth", "reward", "components",
                  "advantage", "prompt_tokens", "completion_tokens", "finish_reason"):
        assert field in records[0], field
    data = (run / "rollouts" / "step-000001.jsonl").read_bytes()
    index = [json.loads(line) for line in (run / "index" / "step-000001.jsonl").read_text().splitlines()]
    assert len(index) == len(records)
    for entry, record in zip(index, records):  # each entry points at its record
        pointed = json.loads(data[entry["offset"]:entry["offset"] + entry["length"]])
        assert pointed == record and (entry["step"], entry["group"], entry["sample"], entry["reward"]) == (record["step"], record["group"], record["sample"], record["reward"])
        assert isinstance(entry["exact"], bool) and set(entry["components"]) == set(record["components"])
    assert summary["eval"][0]["split"] == "eval-unseen-tools" and 0 <= summary["eval"][0]["strict_accuracy"] <= 1
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events if e["event"] in ("started", "step", "eval", "finished")] == ["started", "step", "step", "eval", "finished"]


def test_evaluations_every_n_steps_over_several_files_and_a_time_limit(tmp_path, base, capsys):
    config = write_run(tmp_path, base, "[run]\neval_every = 2\ntime_limit_s = 1e-9")
    config.grpo.max_steps = 6
    rows = demo_data.generate(seed=2, train=1, eval_seen=6, eval_unseen_values=6, eval_unseen_tools=0)
    (tmp_path / "seen.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows["eval"] + rows["eval-unseen-values"]))
    config.data.eval = [str(tmp_path / "eval.jsonl"), str(tmp_path / "seen.jsonl")]
    config.data.eval_samples = 3
    summary = train(config, tmp_path / "run", "run")
    # The time limit ends the run after its first step; the starting policy and the last step are evaluated.
    assert summary["steps"] == 1
    evals = [json.loads(line) for line in (tmp_path / "run" / "eval.jsonl").read_text().splitlines()]
    assert [(e["step"], e["split"], e["samples"]) for e in evals] == [(s, split, 3) for s in (0, 1) for split in ("eval", "eval-unseen-tools", "eval-unseen-values")]
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert any(e["event"] == "warning" and "time limit" in e["message"] for e in events)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "finished"
    config.run.time_limit_s = 0.0
    summary = train(config, tmp_path / "run2", "run2")
    evals = [json.loads(line) for line in (tmp_path / "run2" / "eval.jsonl").read_text().splitlines()]
    assert summary["steps"] == 6 and sorted({e["step"] for e in evals}) == [0, 2, 4, 6]


def test_same_seed_same_run(tmp_path, base):
    config = write_run(tmp_path, base)
    train(config, tmp_path / "a", "a")
    train(config, tmp_path / "b", "b")
    strip = lambda text: [{k: v for k, v in json.loads(line).items() if k not in ("run",)} for line in text.splitlines()]  # noqa: E731
    assert strip((tmp_path / "a" / "rollouts" / "step-000002.jsonl").read_text()) == strip((tmp_path / "b" / "rollouts" / "step-000002.jsonl").read_text())


def test_micro_batches_train_the_same_policy(tmp_path, base):
    config = write_run(tmp_path, base)
    config.grpo.max_steps = 1
    config.reward.preset, config.reward.schedule = None, str(Path(__file__).resolve().parents[2] / "test/reward/schedules/length.ts")  # varies in every group
    train(config, tmp_path / "whole", "whole")
    config.policy.micro_batch_size = 4  # 6 rows: a micro-batch of 4 and one of 2
    train(config, tmp_path / "micro", "micro")
    whole, micro = (torch.load(tmp_path / name / "policy.pt")["model"] for name in ("whole", "micro"))
    # Summation order differs in the last float bits, and Adam's first step turns near-zero gradients
    # into whole steps of lr: equal well below one step (lr = 1e-3).
    assert all(torch.allclose(whole[k], micro[k], atol=1e-4) for k in whole)
    changed = torch.load(base / "model.pt")["model"]
    assert any(not torch.allclose(changed[k], whole[k]) for k in whole)  # the step did update the policy


def test_the_base_cache_key_follows_settings_and_code(monkeypatch):
    from rollout_engine import pretrain

    key = BaseSettings().key()
    assert BaseSettings(steps=601).key() != key
    real_read = pretrain.Path.read_bytes
    monkeypatch.setattr(pretrain.Path, "read_bytes", lambda self: b"changed" if self.name == "demo_data.py" else real_read(self))
    assert BaseSettings().key() != key


def test_the_shipped_base_is_what_the_default_settings_build():
    """`python -m rollout_engine.pretrain --out base` rebuilds engine/base: its defaults are the shipped base's settings."""
    from dataclasses import asdict

    from rollout_engine.pretrain import SHIPPED_BASE, load_base

    meta = json.loads((SHIPPED_BASE / "meta.json").read_text())
    assert meta["settings"] == asdict(BaseSettings())
    model, tokenizer = load_base(SHIPPED_BASE)
    assert model.config.rope and model.config.copy_head and tokenizer.split == "cased-words" and model.num_params() == meta["params"]


def _without_timing(path):
    out = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        for key in ("run", "elapsed_s", "tokens_per_s", "time_s"):
            record.pop(key, None)
        out.append(record)
    return out


def test_resume_is_exact(tmp_path, base):
    config = write_run(tmp_path, base)
    config.grpo.max_steps = 4
    train(config, tmp_path / "whole", "whole")
    stopped = train(config, tmp_path / "halves", "halves", stop_after=2)
    assert stopped["stopped"] and json.loads((tmp_path / "halves" / "run.json").read_text())["status"] == "stopped"
    train(config, tmp_path / "halves", "halves", resume=True)
    for step in (3, 4):
        name = f"rollouts/step-{step:06d}.jsonl"
        assert _without_timing(tmp_path / "whole" / name) == _without_timing(tmp_path / "halves" / name)
    assert _without_timing(tmp_path / "whole" / "metrics.jsonl") == _without_timing(tmp_path / "halves" / "metrics.jsonl")
    info = json.loads((tmp_path / "halves" / "run.json").read_text())
    assert info["status"] == "finished" and [c["step"] for c in info["checkpoints"]] == [2, 4] and info["resumed_at"][0]["step"] == 2


def test_a_run_killed_after_its_checkpoint_resumes_without_duplicate_steps(tmp_path, base):
    config = write_run(tmp_path, base)
    config.grpo.max_steps = 3
    config.run.checkpoint_every = 1
    train(config, tmp_path / "run", "run", stop_after=2)
    # As if killed after writing step 2 but with checkpoint 1 the latest: drop checkpoint 2.
    import shutil
    shutil.rmtree(tmp_path / "run" / "checkpoints" / "step-000002")
    train(config, tmp_path / "run", "run", resume=True)
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3]


def _engine(tmp_path, base, steps=200, extra_toml="", run_dir=None):
    """A training engine subprocess on a long run, and a reader of its events."""
    import subprocess
    import sys
    from pathlib import Path

    config = write_run(tmp_path, base)
    text = (tmp_path / "run.toml").read_text().replace("max_steps = 2", f"max_steps = {steps}") + extra_toml
    (tmp_path / "run.toml").write_text(text)
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-m", "rollout_engine.train", "--config", str(tmp_path / "run.toml"), "--run-dir", str(run_dir or tmp_path / "run")],
                               cwd=root, env={**__import__("os").environ, "PYTHONPATH": str(root / "engine")}, stdout=subprocess.PIPE, text=True)
    events = (json.loads(line) for line in process.stdout if line.startswith("{"))
    return config, process, events


def _control(run):
    """A client of the run's control socket (control.json says where it is): send(message) -> answer."""
    import socket

    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(json.loads((run / "control.json").read_text())["socket"])
    stream = client.makefile("rw")

    def send(message):
        stream.write(json.dumps(message) + "\n")
        stream.flush()
        return json.loads(stream.readline())
    return send


def _until(events, name):
    for event in events:
        if event["event"] == name:
            return event
    raise AssertionError(f"no {name} event")


def test_sigterm_finishes_the_step_checkpoints_and_exits_cleanly(tmp_path, base):
    import signal

    _, process, events = _engine(tmp_path, base)
    step = _until(events, "step")["step"]
    process.send_signal(signal.SIGTERM)
    stopped = _until(events, "stopped")
    assert process.wait(timeout=60) == 0 and stopped["step"] >= step
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["status"] == "stopped" and info["checkpoints"][-1]["step"] == stopped["step"]
    assert not (tmp_path / "run" / "control.json").exists()


def test_the_control_socket_pauses_samples_checkpoints_and_stops(tmp_path, base):
    _, process, events = _engine(tmp_path, base)
    _until(events, "step")
    send = _control(tmp_path / "run")
    assert send({"command": "pause"}) == {"ok": True, "command": "pause"}
    paused = _until(events, "paused")
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "paused"
    reply = send({"command": "sample", "prompt": "<|user|>Weather in Oslo?\n<|assistant|>", "max_new_tokens": 5})
    assert reply["ok"] and isinstance(reply["completion"], str) and reply["finish_reason"] in ("stop", "length")
    assert send({"command": "fly"})["error"].startswith("unknown command 'fly'")
    assert send({"command": "checkpoint"})["ok"] and send({"command": "resume"})["ok"]
    checkpoint = _until(events, "checkpoint")
    assert checkpoint["step"] == paused["step"] + 1
    assert send({"command": "stop"})["ok"]
    _until(events, "stopped")
    assert process.wait(timeout=60) == 0


def test_push_and_rollback_switch_the_reward_of_a_live_run(tmp_path, base):
    """The control socket's reward command: a pushed schedule scores from the next step (checked first), a
    failing one is refused and the current one goes on, and rolling back to the preset restores its version."""
    _, process, events = _engine(tmp_path, base)
    first = _until(events, "step")
    run = tmp_path / "run"
    preset_version = json.loads((run / "run.json").read_text())["reward_versions"][0]
    schedule = tmp_path / "constant.ts"
    schedule.write_text('import { defineSchedule, rule } from "rollout-studio";\n'
                        'export default defineSchedule({ name: "constant", components: {\n'
                        '  one: { range: [0, 1], score: () => rule(1, "always one") },\n} });\n')
    broken = tmp_path / "throws.ts"
    broken.write_text('import { defineSchedule } from "rollout-studio";\n'
                      'export default defineSchedule({ name: "throws", components: { bad: { score: () => { throw new Error("nope"); } } } });\n')
    send = _control(run)
    assert send({"command": "reward", "schedule": str(tmp_path / "missing.ts")})["error"].endswith("is not a file")
    # A schedule outside the run's folders (run directory, run.toml's folder, the configured schedule's) is refused.
    outside = tmp_path.parent / f"{tmp_path.name}-outside.ts"
    outside.write_text(schedule.read_text())
    refused_outside = send({"command": "reward", "schedule": str(outside)})
    assert not refused_outside["ok"] and "outside the folders this run takes schedules from" in refused_outside["error"] and str(tmp_path) in refused_outside["error"]
    pushed = send({"command": "reward", "schedule": str(schedule)})
    assert pushed["ok"] and pushed["accepted"] and pushed["version"] != preset_version
    refused = send({"command": "reward", "schedule": str(broken)})
    assert refused["ok"] and not refused["accepted"] and "nope" in refused["error"] and refused["version"] == pushed["version"]
    reloaded = _until(events, "reward_reloaded")
    assert reloaded["version"] == pushed["version"] and reloaded["step"] > first["step"]
    step = _until(events, "step")["step"]
    records = [json.loads(line) for line in (run / "rollouts" / f"step-{step:06d}.jsonl").read_text().splitlines()]
    assert {r["reward_version"] for r in records} == {pushed["version"]}
    # Attribution: the rule() call's line in the pushed file, and the component's score function in the version record.
    assert records[0]["components"]["one"]["at"] == {"line": 3, "column": 38}
    stored = json.loads((run / "rewards" / f"{pushed['version']}.json").read_text())
    assert stored["source_file"] == str(schedule) and stored["schedule"]["components"][0]["at"]["line"] == 3
    back = send({"command": "reward", "preset": "tool-zero", "options": {}})
    assert back["accepted"] and back["version"] == preset_version
    assert send({"command": "stop"})["ok"]
    _until(events, "stopped")
    assert process.wait(timeout=60) == 0
    steps = json.loads((run / "run.json").read_text())["reward_version_steps"]
    assert list(steps) == [preset_version, pushed["version"]]


def test_a_reward_host_that_keeps_dying_pauses_the_run_and_loses_nothing(tmp_path, base, capsys):
    from pathlib import Path

    from rollout_engine.reward_client import RewardHostError

    config = write_run(tmp_path, base)
    config.grpo.max_steps = 3
    config.reward.preset = None
    config.reward.schedule = str(Path(__file__).resolve().parents[2] / "test/reward/schedules/kills-host.ts")
    with pytest.raises(RewardHostError, match="failed twice"):
        train(config, tmp_path / "run", "run")
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["status"] == "paused" and info["summary"]["step"] == 1 and info["checkpoints"][-1]["step"] == 1
    errors = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"error"' in line]
    assert "resume with --resume" in errors[-1]["message"]
    # With a working reward the run resumes from step 2 and equals one that never failed.
    config.reward.schedule, config.reward.preset = None, "tool-zero"
    train(config, tmp_path / "run", "run", resume=True)
    train(config, tmp_path / "whole", "whole")
    assert _without_timing(tmp_path / "run" / "metrics.jsonl")[1:] == _without_timing(tmp_path / "whole" / "metrics.jsonl")[1:]


def test_a_killed_engine_leaves_a_run_that_reads_and_resumes(tmp_path, base):
    import signal

    _, process, events = _engine(tmp_path, base, steps=6, extra_toml="[run]\ncheckpoint_every = 2\n")
    while _until(events, "step")["step"] < 3:
        pass
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    info = json.loads((tmp_path / "run" / "run.json").read_text())  # readable after a kill
    assert info["status"] == "running" and info["step"] >= 3
    for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines():
        json.loads(line)
    train(load_config(tmp_path / "run.toml"), tmp_path / "run", "run", resume=True)
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 7))
    assert json.loads((tmp_path / "run" / "run.json").read_text())["resumed_at"][0]["step"] in (2, 4)


def test_resume_without_a_checkpoint_starts_over(tmp_path, base):
    config = write_run(tmp_path, base)
    config.run.checkpoint_every = 100
    train(config, tmp_path / "run", "run")
    import shutil
    shutil.rmtree(tmp_path / "run" / "checkpoints")
    train(config, tmp_path / "run", "run", resume=True)
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2]


def test_a_second_engine_cannot_write_a_run_in_use(tmp_path, base):
    from rollout_engine.rundir import RunInUseError, lock_run_dir

    _, process, events = _engine(tmp_path, base)
    _until(events, "step")
    config = load_config(tmp_path / "run.toml")
    with pytest.raises(RunInUseError, match=rf"in use by another engine \(pid {process.pid}\)"):
        train(config, tmp_path / "run", "run", resume=True)
    process.terminate()
    assert process.wait(timeout=60) == 0
    lock_run_dir(tmp_path / "run").close()  # free again once the engine is gone


def test_the_run_directory_has_the_fields_of_the_shared_fixture(tmp_path, base):
    """test/fixtures/run-small is what the TypeScript side is tested on: the engine must write the same fields."""
    fixture = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "run-small"
    config = write_run(tmp_path, base)
    train(config, tmp_path / "run", "run")
    run = tmp_path / "run"
    first_line = lambda path: json.loads(path.read_text().splitlines()[0])  # noqa: E731
    assert set(json.loads((run / "run.json").read_text())) == set(json.loads((fixture / "run.json").read_text()))
    assert set(first_line(run / "metrics.jsonl")) == set(first_line(fixture / "metrics.jsonl"))
    record, expected = first_line(run / "rollouts" / "step-000001.jsonl"), first_line(fixture / "rollouts" / "step-000001.jsonl")
    assert set(record) == set(expected)
    assert set(next(iter(record["components"].values()))) == set(next(iter(expected["components"].values())))
    assert set(first_line(run / "eval.jsonl")) == set(first_line(fixture / "eval.jsonl"))
    assert set(first_line(run / "index" / "step-000001.jsonl")) == set(first_line(fixture / "index" / "step-000001.jsonl"))


def _events(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_a_run_directory_with_a_long_path_starts_and_is_controlled(tmp_path, base):
    """AF_UNIX paths hold 107 bytes: a run directory of 250 characters still gets a working control socket."""
    run = tmp_path
    while len(str(run)) < 250:
        run = run / ("long-folder-name-" * 3)
    _, process, events = _engine(tmp_path, base, run_dir=run)
    started = _until(events, "started")
    assert started["run_dir"] == str(run)
    _until(events, "step")
    send = _control(run)
    assert send({"command": "pause"}) == {"ok": True, "command": "pause"}
    _until(events, "paused")
    assert send({"command": "stop"})["ok"]
    _until(events, "stopped")
    assert process.wait(timeout=60) == 0
    assert json.loads((run / "run.json").read_text())["status"] == "stopped" and not (run / "control.json").exists()


def test_a_control_socket_that_cannot_open_is_an_error_event_and_a_failed_run(tmp_path, base, capsys, monkeypatch):
    from rollout_engine import control, train as train_module

    import socket
    import types

    class Unbindable(socket.socket):
        def bind(self, address):
            raise OSError("AF_UNIX path too long")  # what bind() says for a socket path over 107 bytes

    write_run(tmp_path, base)
    monkeypatch.setattr(control, "socket", types.SimpleNamespace(**{**vars(socket), "socket": Unbindable}))
    code = train_module.main(["--config", str(tmp_path / "run.toml"), "--run-dir", str(tmp_path / "run")])
    assert code == 1
    events = _events(capsys)
    assert events[-1]["event"] == "error" and "cannot open the control socket" in events[-1]["message"] and "started" not in [e["event"] for e in events]
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["status"] == "failed" and "control socket" in info["summary"]["error"]


def test_a_new_run_refuses_a_run_directory_that_holds_a_run(tmp_path, base, capsys):
    from rollout_engine import train as train_module

    write_run(tmp_path, base)
    run = tmp_path / "run"
    run.mkdir()
    (run / "engine.log").write_text("")  # the extension makes the folder and its log first: still a new run
    assert train_module.main(["--config", str(tmp_path / "run.toml"), "--run-dir", str(run)]) == 0
    before = (run / "metrics.jsonl").read_text()
    capsys.readouterr()
    assert train_module.main(["--config", str(tmp_path / "run.toml"), "--run-dir", str(run)]) == 2
    error = _events(capsys)[-1]
    assert error["event"] == "error" and str(run) in error["message"] and "already holds a run" in error["message"] and "--resume" in error["message"]
    assert (run / "metrics.jsonl").read_text() == before  # steps 1–2 once, not again after them
    assert json.loads((run / "run.json").read_text())["status"] == "finished"


def test_new_runs_without_a_run_directory_get_fresh_ones(tmp_path):
    from rollout_engine.train import fresh_run_dir

    first = fresh_run_dir(tmp_path)
    first.mkdir()
    second = fresh_run_dir(tmp_path)
    assert second != first and second.parent == tmp_path and second.name.startswith(first.name)


def test_resume_drops_partial_last_lines_left_by_a_crash(tmp_path, base, capsys):
    config = write_run(tmp_path, base)
    config.grpo.max_steps = 4
    config.run.checkpoint_every = 2
    config.run.eval_every = 2
    train(config, tmp_path / "whole", "whole")
    train(config, tmp_path / "run", "run", stop_after=2)
    run = tmp_path / "run"
    # As if killed while writing step 3: its metrics line, its rollouts, and an evaluation line cut short.
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 3, "elapsed_s": 1.2, "rew')
    with open(run / "eval.jsonl", "a") as f:
        f.write('{"split": "eval-unseen-tools", "step": 4, "sam')
    with open(run / "rollouts" / "step-000002.jsonl", "a") as f:
        f.write('{"run": "run", "step": 2, "prompt_id"')
    (run / "rollouts" / "step-000003.jsonl").write_text('{"run": "run", "step": 3, "comp')
    capsys.readouterr()
    train(config, run, "run", resume=True)
    warnings = [e["message"] for e in _events(capsys) if e["event"] == "warning"]
    for cut in (run / "metrics.jsonl", run / "eval.jsonl", run / "rollouts" / "step-000002.jsonl"):
        assert any(w.startswith(f"{cut}: dropped its partial last line") for w in warnings), (cut, warnings)
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3, 4]
    assert _without_timing(run / "metrics.jsonl") == _without_timing(tmp_path / "whole" / "metrics.jsonl")
    evals = [json.loads(line) for line in (run / "eval.jsonl").read_text().splitlines()]
    assert [e["step"] for e in evals] == [0, 2, 4]
    records = [json.loads(line) for line in (run / "rollouts" / "step-000002.jsonl").read_text().splitlines()]
    assert len(records) == 6 and not (run / "index" / "step-000002.jsonl").exists()  # the cut file's byte index is dropped with it


def test_a_reward_host_restart_is_a_warning(tmp_path, base, capsys):
    """A host that dies once is restarted and the run goes on; the restart is a warning event with its reason."""
    marker = tmp_path / "killed-once"
    schedule = tmp_path / "kills-once.ts"
    schedule.write_text('import { defineSchedule } from "rollout-studio";\n'
                        'import { existsSync, writeFileSync } from "node:fs";\n'
                        'export default defineSchedule({ name: "kills-the-host-once", components: { one: { score: (_c, t) => {\n'
                        f'  if (t.step === 2 && !existsSync({json.dumps(str(marker))})) {{ writeFileSync({json.dumps(str(marker))}, "x"); process.kill(process.pid, "SIGKILL"); }}\n'
                        '  return 1;\n} } } });\n')
    config = write_run(tmp_path, base)
    config.reward.preset, config.reward.schedule = None, str(schedule)
    summary = train(config, tmp_path / "run", "run")
    assert summary["steps"] == 2 and marker.exists()
    warnings = [e for e in _events(capsys) if e["event"] == "warning"]
    restarted = [w for w in warnings if "the reward host was restarted" in w["message"]]
    assert len(restarted) == 1 and restarted[0]["step"] == 2 and "exited" in restarted[0]["reason"], warnings
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "finished"


def test_a_printing_schedule_trains_and_its_output_lands_in_the_records_and_events(tmp_path, base, capsys):
    """console.log in a schedule is the sample's log in its rollout record (and, outside a sample, an event), never the protocol."""
    schedule = tmp_path / "prints.ts"
    schedule.write_text('import { defineSchedule } from "rollout-studio";\n'
                        'console.log("loading the printing schedule");\n'
                        'export default defineSchedule({ name: "prints", components: { chatty: { score: ({ sample }) => {\n'
                        '  console.log(42);\n'
                        '  console.log(JSON.stringify({ id: 1, result: { scores: [] } }));\n'
                        '  console.error("scored", sample.id);\n'
                        '  return 1;\n} } } });\n')
    config = write_run(tmp_path, base)
    config.reward.preset, config.reward.schedule = None, str(schedule)
    summary = train(config, tmp_path / "run", "run")
    assert summary["steps"] == 2
    records = [json.loads(line) for line in (tmp_path / "run" / "rollouts" / "step-000002.jsonl").read_text().splitlines()]
    assert all(r["reward"] == 1 for r in records)
    for r in records:
        text = "".join(log["text"] for log in r["reward_logs"])
        assert text.startswith('42\n{"id":1,"result":{"scores":[]}}\n') and f"scored {r['prompt_id']}#{r['sample']}" in text, r["reward_logs"]
        assert {log["stream"] for log in r["reward_logs"]} == {"stdout", "stderr"}
    logs = [e for e in _events(capsys) if e["event"] == "reward_log"]
    assert any(e["during"] == "load" and "loading the printing schedule" in e["text"] for e in logs), logs
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "finished"


def test_what_a_run_writes_emits_and_answers_follows_the_contract(tmp_path, base, capsys):
    """Every record of the run directory, every event and every control answer of a real run, validated
    against contract/ (the same schemas the TypeScript readers' types come from)."""
    import threading
    import time

    from contract_check import assert_run_dir_valid, assert_valid, validator

    validator("run-directory", "RunInfo")  # skips without jsonschema
    schedule = tmp_path / "contract.ts"
    schedule.write_text('import { defineSchedule, rule } from "rollout-studio";\n'
                        'console.log("loading");\n'
                        'export default defineSchedule({ name: "contract", components: {\n'
                        '  length: { range: [0, 1], score: ({ sample }) => { console.log(sample.completion.length); return rule(sample.completion.length % 2, "odd length"); } },\n'
                        '  half: { weight: 0.5, score: () => 0.5 },\n} });\n')
    config = write_run(tmp_path, base, "[run]\neval_every = 1\ncheckpoint_every = 2")
    config.grpo.max_steps = 5
    config.reward.preset, config.reward.schedule = None, str(schedule)
    run = tmp_path / "run"
    answers, control_files = [], []

    def drive():  # a client of the control socket while the run goes on
        for _ in range(3000):
            if (run / "control.json").exists():
                break
            time.sleep(0.01)
        control_files.append(json.loads((run / "control.json").read_text()))
        send = _control(run)
        answers.append(send({"command": "sample", "prompt": "<|user|>Weather in Oslo?\n<|assistant|>", "max_new_tokens": 4}))
        answers.append(send({"command": "reward", "preset": "tool-zero", "options": {}}))  # scores from the next step
        answers.append(send({"command": "fly"}))
        answers.append(send({"command": "checkpoint"}))

    thread = threading.Thread(target=drive, daemon=True)
    thread.start()
    summary = train(config, run, "run")
    thread.join(timeout=60)
    assert summary["steps"] == 5
    assert [a["ok"] for a in answers] == [True, True, False, True] and answers[1]["accepted"], answers
    for answer in answers:
        assert_valid("control", "ControlAnswer", answer)
    assert_valid("control", "ControlFile", control_files[0])
    assert assert_run_dir_valid(run) > 5 * 6
    info = json.loads((run / "run.json").read_text())
    assert len(info["reward_versions"]) == 2 and info["summary"]["eval"]
    records = [json.loads(line) for line in (run / "rollouts" / "step-000001.jsonl").read_text().splitlines()]
    assert records[0]["reward_logs"] and records[0]["components"]["length"]["at"]["line"] == 4
    events = _events(capsys)
    for event in events:
        assert_valid("engine-events", "EngineEvent", event, event["event"])
    kinds = {e["event"] for e in events}
    assert {"started", "eval", "step", "checkpoint", "reward_log", "reward_reloaded", "finished"} <= kinds, kinds
