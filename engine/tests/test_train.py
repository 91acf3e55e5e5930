"""A short GRPO run on CPU end to end: the run directory holds what the extension reads."""
import json

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
    assert summary["eval"][0]["split"] == "eval-unseen-tools" and 0 <= summary["eval"][0]["strict_accuracy"] <= 1
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events if e["event"] in ("started", "step", "eval", "finished")] == ["started", "step", "step", "eval", "finished"]


def test_same_seed_same_run(tmp_path, base):
    config = write_run(tmp_path, base)
    train(config, tmp_path / "a", "a")
    train(config, tmp_path / "b", "b")
    strip = lambda text: [{k: v for k, v in json.loads(line).items() if k not in ("run",)} for line in text.splitlines()]  # noqa: E731
    assert strip((tmp_path / "a" / "rollouts" / "step-000002.jsonl").read_text()) == strip((tmp_path / "b" / "rollouts" / "step-000002.jsonl").read_text())


def test_the_base_cache_key_follows_settings_and_code(monkeypatch):
    from rollout_engine import pretrain

    key = BaseSettings().key()
    assert BaseSettings(steps=601).key() != key
    real_read = pretrain.Path.read_bytes
    monkeypatch.setattr(pretrain.Path, "read_bytes", lambda self: b"changed" if self.name == "demo_data.py" else real_read(self))
    assert BaseSettings().key() != key
