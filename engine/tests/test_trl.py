"""Rollout Studio inside TRL (rollout_engine/integrations/trl.py, docs/trl.md): the reward function against the
real reward host, and a real GRPOTrainer run on CPU writing a Rollout Studio run directory.

The trainer test needs trl, transformers, accelerate, datasets (and pandas/pyarrow, which datasets brings)
and skips, saying so, without them; the reward-function tests need only the built reward host. Nothing
is downloaded: the model is built from a config and the tokenizer is trained here on the demo data.
"""
import json
import logging
import math
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from conftest import ROOT, send_control
from rollout_engine.integrations.trl import RolloutStudioReward, reward_funcs

TRL_MISSING = ("trl is not installed for this Python: the TRL trainer test needs trl, transformers, accelerate and datasets "
               "(pip install trl; docs/trl.md says which versions were checked)")
SCHEDULES = ROOT / "test" / "reward" / "schedules"


def _time(step):
    """TRL's trainer_state as the reward function reads it; global_step is the last finished step."""
    return SimpleNamespace(global_step=step - 1, max_steps=3, epoch=0.0)


def test_the_package_imports_without_trl_or_transformers():
    blocked = "import sys\nfor name in ('trl', 'transformers', 'datasets', 'accelerate'):\n    sys.modules[name] = None\n"
    code = blocked + (f"sys.path.insert(0, {str(ROOT / 'engine')!r})\n"
                      "import rollout_engine.integrations.trl as t\n"
                      "try:\n    t.RolloutStudioCallback\nexcept ImportError as err:\n    print('refused:', err)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "refused: RolloutStudioCallback needs transformers" in result.stdout


def test_a_reward_failure_is_none_never_zero_and_every_component_is_logged():
    logged, metrics = {}, {}
    rewards = reward_funcs(schedule=SCHEDULES / "throws.ts", watch=False)
    fn = rewards[0]
    try:
        assert isinstance(fn, RolloutStudioReward) and fn.__name__ == "rollout_studio"
        out = fn(prompts=["a", "b"], completions=["fine", "BAD"], completion_ids=[[1, 2], [3]], ground_truth=["[]", []],
                 id=["x", "y"], trainer_state=_time(1),
                 log_extra=lambda column, values: logged.setdefault(column, []).extend(values),
                 log_metric=lambda name, value: metrics.setdefault(name, []).append(value))
    finally:
        fn.close()
    assert out == [1.0, None]
    version = fn.version
    assert logged["rollout_studio/version"] == [version, version]
    assert logged["rollout_studio/failure"][0] is None and logged["rollout_studio/failure"][1].startswith("exception: ")
    assert "cannot score this one" in logged["rollout_studio/failure"][1]
    assert logged["rollout_studio/picky"][0] == 1 and logged["rollout_studio/picky"][1] is None
    assert metrics == {"rollout_studio/picky": [1.0], "rollout_studio/reward_failures": [0.5], "rollout_studio/exact_match": [0.0]}


def test_a_reward_host_that_dies_gives_none_with_an_error_and_is_started_again(caplog):
    """kills-host.ts ends the host from step 2 on: the batch of step 2 fails twice (the client restarts the host
    once itself), its samples get None and an error is logged; the next batch starts a new host."""
    caplog.set_level(logging.WARNING, logger="rollout_studio.trl")
    fn = reward_funcs(schedule=SCHEDULES / "kills-host.ts", watch=False)[0]
    try:
        sample = {"prompts": ["p", "p"], "completions": ["x", "y"], "ground_truth": ["[]", "[]"]}
        assert fn(**sample, trainer_state=_time(1)) == [1.0, 1.0]
        assert fn(**sample, trainer_state=_time(2)) == [None, None]
        assert fn.host is None and fn.host_failures == 1
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "failed on the 2 samples of step 2" in errors[0] and "started again" in errors[0], errors
        assert fn(**sample, trainer_state=_time(1)) == [1.0, 1.0]  # a new host
        assert fn.host is not None
    finally:
        fn.close()


# The demo schedule, edited while the run trains: a new component that varies in every group (so advantages
# are not all 0 and can be compared with TRL's), and that throws, from step 3 on, for the first sample of each
# group (so step 3 has reward failures; a version that threw at once would fail its check on reload).
ADDED = """    length: {
      description: "test: a little for longer completions",
      range: [0, 1],
      weight: 0.1,
      score: ({ sample }, t) => {
        if (t.step >= 3 && /#[04]$/.test(sample.id ?? "")) throw new Error("no reward for this one (the test's failure)");
        return { value: Math.min(1, sample.completion.length / 200), why: `${sample.completion.length} characters` };
      },
    },
"""


def _tokenizer(texts):
    """A byte-level BPE tokenizer trained on the demo's text (no download), with <|endoftext|> as EOS and padding."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=512, special_tokens=["<|endoftext|>"], show_progress=False,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")


def test_a_grpo_trainer_run_is_scored_by_the_reward_host_and_written_as_a_rollout_studio_run(tmp_path, monkeypatch):
    pytest.importorskip("trl", reason=TRL_MISSING)
    pytest.importorskip("transformers", reason=TRL_MISSING)
    pytest.importorskip("datasets", reason=TRL_MISSING)
    pd = pytest.importorskip("pandas", reason=TRL_MISSING)
    from contract_check import assert_run_dir_valid  # skips without jsonschema

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from rollout_engine.data import read_dataset
    from rollout_engine.integrations.trl import RolloutStudioCallback, trl_dataset
    from rollout_engine.templates import ideal_completion

    torch.set_num_threads(1)
    train = ROOT / "demo" / "data" / "train.jsonl"
    dataset = trl_dataset(train, "tool-zero", limit=24)
    tokenizer = _tokenizer(list(dataset["prompt"]) + [ideal_completion(s, "tool-zero") for s in read_dataset(train)[:200]])
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
                                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None))
    schedule = tmp_path / "reward-schedule.ts"
    schedule.write_text((ROOT / "demo" / "reward-schedule.ts").read_text())
    edited = schedule.read_text().replace("  components: {\n", "  components: {\n" + ADDED, 1)
    assert edited != schedule.read_text()

    class EditTheScheduleAfterStep1(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 1:
                schedule.write_text(edited)  # a save in the editor
                time.sleep(1.0)  # the host sees it (fs.watch, then 100 ms) and queues the reload ahead of step 2's batch

    rewards = reward_funcs(schedule=schedule)
    studio = RolloutStudioCallback(rewards, tmp_path / "run", dataset=str(train), template="tool-zero")
    args = GRPOConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=8, num_generations=4, max_completion_length=24,
                      max_steps=3, learning_rate=1e-3, logging_steps=1, log_completions=True, report_to="none", save_strategy="no",
                      use_cpu=True, bf16=False, gradient_checkpointing=False, seed=0, disable_tqdm=True, dataloader_num_workers=0)
    trainer = GRPOTrainer(model=model, reward_funcs=rewards, args=args, train_dataset=dataset, processing_class=tokenizer,
                          callbacks=[studio, EditTheScheduleAfterStep1()])
    started = time.time()
    try:
        trainer.train()
    finally:
        rewards[0].close()
    print(f"3 GRPO steps in {time.time() - started:.1f} s; writing the run took {1000 * studio.write_seconds / 3:.1f} ms a step, "
          f"{100 * studio.overhead:.2f} % of the steps' time")

    run = tmp_path / "run"
    assert assert_run_dir_valid(run) > 0  # every record passes the contract, as the engine's runs do
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished" and info["step"] == 3 and isinstance(info["schema_version"], int)
    assert info["config"]["reward"]["schedule"] == str(schedule) and info["config"]["grpo"]["num_generations"] == 4
    first, second = info["reward_versions"]  # the edit is a new version, picked up from step 2 on
    assert info["reward_version_steps"] == {first: 1, second: 2}
    assert json.loads((run / "rewards" / f"{second}.json").read_text())["source"] == edited

    steps = {}
    for step in (1, 2, 3):
        text = (run / "rollouts" / f"step-{step:06d}.jsonl").read_bytes()
        records = [json.loads(line) for line in text.splitlines()]
        index = [json.loads(line) for line in (run / "index" / f"step-{step:06d}.jsonl").read_text().splitlines()]
        assert len(records) == 8 == len(index)  # 2 prompts × 4 completions
        assert [(r["group"], r["sample"]) for r in records] == [(g, s) for g in range(2) for s in range(4)]
        assert all(len({r["prompt_id"] for r in records if r["group"] == g}) == 1 for g in range(2))
        assert all(json.loads(text[i["offset"]:i["offset"] + i["length"]]) == r for i, r in zip(index, records))
        assert {r["reward_version"] for r in records} == {first if step == 1 else second}
        assert all(r["prompt_tokens"] > 0 and r["policy_version"] == step - 1 for r in records)
        for r in records:
            assert all(isinstance(c["why"], str) and c["why"] for c in r["components"].values())
        steps[step] = records
    assert set(steps[1][0]["components"]) == {"format", "strict", "credit"}
    assert set(steps[2][0]["components"]) == {"length", "format", "strict", "credit"}

    # Reward failures at step 3: None (null) in the record and to TRL, never 0; no advantage, not trained.
    failed = [r for r in steps[3] if r["failure"] is not None]
    assert [(r["group"], r["sample"]) for r in failed] == [(0, 0), (1, 0)]
    assert all(r["reward"] is None and r["advantage"] == 0 and not r["trained"] and r["failure"]["kind"] == "exception"
               and "the test's failure" in r["failure"]["message"] for r in failed)
    assert all(r["reward"] is not None and r["trained"] for r in steps[3] if r["failure"] is None)
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2, 3] and [m["reward_failures"] for m in metrics] == [0, 0, 2]
    assert all(m["entropy"] is not None and m["grad_norm"] is not None for m in metrics)  # from TRL's log of the step

    # The records agree with TRL's own completions table (log_completions): same completions, rewards and
    # advantages in the same order, and the components and versions logged with log_extra.
    for step in (2, 3):
        table = pd.read_parquet(tmp_path / "out" / "completions" / f"completions_{step:05d}.parquet")
        records = steps[step]
        assert list(table["completion"]) == [r["completion"] for r in records]
        for got, r in zip(table["rollout_studio"], records):
            assert (r["reward"] is None and math.isnan(got)) or got == pytest.approx(r["reward"], abs=1e-6)
        assert list(table["advantage"]) == pytest.approx([r["advantage"] for r in records], abs=1e-5)
        assert list(table["rollout_studio/version"]) == [second] * 8
        assert list(table["rollout_studio/length"]) == pytest.approx([r["components"]["length"]["value"] if "length" in r["components"] else math.nan
                                                                      for r in records], nan_ok=True)
    assert any(r["advantage"] != 0 for r in steps[2])  # the length component varies: real advantages were compared

    # The TypeScript side reads it as it reads the engine's runs (runs/runDir.ts): replay every stored sample.
    replay = subprocess.run(["node", str(ROOT / "dist" / "cli.cjs"), "replay", "--run", str(run), "--steps", "all", "--after", "preset:tool-zero",
                             "--format", "json"], capture_output=True, text=True, timeout=120)
    assert replay.returncode == 0, replay.stderr
    report = json.loads(replay.stdout)
    assert (report["samples"], report["missingRecords"], report["failuresBefore"]) == (24, 0, 2)
    assert info["source"] == {"trainer": "trl", "path": str((tmp_path / "out").resolve()), "mode": "live"}

    # The same run imported afterwards from TRL's completions folder alone (`rollout-studio import`): the
    # ground truth found in the dataset by the logged id, scored again by the same schedule version.
    from rollout_engine.integrations.foreign import main as import_main
    imported = tmp_path / "imported"
    assert import_main(["import", str(tmp_path / "out"), "--out", str(imported), "--schedule", str(schedule), "--dataset", str(train)]) == 0
    assert assert_run_dir_valid(imported) > 0
    source_info = json.loads((imported / "run.json").read_text())
    assert source_info["source"] == {"trainer": "trl", "path": str((tmp_path / "out").resolve()), "mode": "import"}
    for step in (2, 3):  # scored by the edited schedule, as the live run's steps 2 and 3 were (step 3's failures included)
        again = [json.loads(line) for line in (imported / "rollouts" / f"step-{step:06d}.jsonl").read_text().splitlines()]
        assert [r["completion"] for r in again] == [r["completion"] for r in steps[step]]
        assert [r["prompt_id"] for r in again] == [r["prompt_id"] for r in steps[step]]
        assert [(r["group"], r["sample"]) for r in again] == [(r["group"], r["sample"]) for r in steps[step]]
        assert [r["ground_truth"] for r in again] == [r["ground_truth"] for r in steps[step]]
        assert [r["reward"] for r in again] == pytest.approx([r["reward"] for r in steps[step]], abs=1e-6, nan_ok=True)
        assert [r["source_reward"] for r in again] == pytest.approx([r["reward"] for r in steps[step]], abs=1e-6)  # TRL's column
        assert [r["advantage"] for r in again] == pytest.approx([r["advantage"] for r in steps[step]], abs=1e-5)  # TRL's own
    imported_metrics = [json.loads(line) for line in (imported / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in imported_metrics] == [1, 2, 3]


def test_a_run_configuration_with_engine_trl_trains_through_the_engine_command_and_stops_when_asked(tmp_path):
    """`[run] engine = "trl"`: the engine's own command (what Start RL Run and `rollout-studio train` start)
    trains with TRL's GRPOTrainer, writes the run directory, speaks the engine's events and takes a stop
    through the control socket (TRL stops and saves after the step)."""
    for name in ("trl", "transformers", "datasets"):
        pytest.importorskip(name, reason=TRL_MISSING)
    from contract_check import assert_run_dir_valid
    from rollout_engine.hf_model import make_model_folder

    import os

    model = make_model_folder(tmp_path / "model", "test")
    rows = [json.loads(line) for line in (ROOT / "demo" / "data" / "train.jsonl").read_text().splitlines()[:40]]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "run.toml").write_text(f"""
[data]
train = "train.jsonl"
template = "tool-n1"
[policy]
backend = "hf"
model = "{model}"
max_new_tokens = 12
gradient_checkpointing = false
[reward]
schedule = "{SCHEDULES / 'length.ts'}"
[grpo]
num_generations = 4
prompts_per_step = 2
max_steps = 50
learning_rate = 1e-3
[run]
engine = "trl"
checkpoint_every = 1000
""")
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "engine"), "HF_HUB_OFFLINE": "1"}
    engine = subprocess.Popen([sys.executable, "-m", "rollout_engine.train", "--config", str(tmp_path / "run.toml"), "--run-dir", str(run)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    events = []
    try:
        for line in engine.stdout:
            if line.startswith("{"):
                events.append(json.loads(line))
                if events[-1]["event"] == "step" and events[-1]["step"] == 2:
                    assert send_control(run, {"command": "stop"})["ok"]
        assert engine.wait(timeout=120) == 0, engine.stderr.read()[-3000:]
    finally:
        engine.kill()
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and events[0]["max_steps"] == 50 and kinds[-1] == "stopped"
    steps = [e["step"] for e in events if e["event"] == "step"]
    assert steps[:2] == [1, 2] and len(steps) <= 4  # it stopped within a step or two of the request, not at 50
    assert "checkpoint" in kinds  # TRL saved at the stop
    assert_run_dir_valid(run)
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "stopped" and info["source"]["mode"] == "live" and info["config"]["grpo"]["num_generations"] == 4
    assert info["checkpoints"] and (run / info["checkpoints"][-1]["path"]).exists()
    records = [json.loads(line) for line in (run / "rollouts" / "step-000001.jsonl").read_text().splitlines()]
    assert len(records) == 8 and all("length" in r["components"] for r in records)
    assert (run / "policy" / "config.json").exists()


def test_the_fallback_advantages_are_trls_from_the_engines_one_definition():
    """Used only when the trainer's own advantages cannot be read: TRL's group, batch and no scaling."""
    from rollout_engine.advantages import group_advantages
    from rollout_engine.integrations.trl import _group_advantages

    rewards = [1.0, 0.0, None, 1.0, 0.5, 0.5, 1.0, 0.0]
    grouped = _group_advantages(rewards, 4, "group")
    assert grouped == pytest.approx(group_advantages(rewards, 4, scale=True, eps=1e-4)[0])
    assert grouped[0] == pytest.approx((1 - 2 / 3) / (math.sqrt(1 / 3) + 1e-4)) and grouped[2] == 0.0
    centred = _group_advantages(rewards, 4, "none")
    assert centred == pytest.approx([1 / 3, -2 / 3, 0.0, 1 / 3, 0.0, 0.0, 0.5, -0.5])
    assert _group_advantages(rewards, 4, False) == centred  # older TRL wrote scale_rewards=False
    scored = [r for r in rewards if r is not None]
    mean = sum(scored) / len(scored)
    batch_std = math.sqrt(sum((r - mean) ** 2 for r in scored) / (len(scored) - 1))
    assert _group_advantages(rewards, 4, "batch") == pytest.approx([a / (batch_std + 1e-4) for a in centred])
