"""The embedded default learns its format: GRPO from the shipped tiny base on the demo data, with the
demo's schedule and a fixed seed, raises the reward and cuts parse failures within a few minutes on 2 CPU
cores. Held-out exact-call accuracy does not rise clearly yet (docs/learning.md: the learning issue stays
open until it does); this is the short version that CI runs."""
import json

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed for this Python (run bash scripts/setup.sh)")

from conftest import ROOT  # noqa: E402
from rollout_engine import demo_data  # noqa: E402
from rollout_engine.config import load_config  # noqa: E402
from rollout_engine.pretrain import SHIPPED_BASE  # noqa: E402
from rollout_engine.train import train  # noqa: E402

STEPS = 24


def _mean(values):
    return sum(values) / len(values)


def test_grpo_from_the_shipped_base_learns_the_format(tmp_path):
    assert (SHIPPED_BASE / "model.pt").exists(), "the shipped base (engine/base) is part of the repository"
    config = load_config(ROOT / "demo" / "run.toml")
    if not (ROOT / "demo" / "data" / "train.jsonl").exists():  # set-up writes it; a bare checkout may not have it
        rows = demo_data.generate(0)
        (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows["train"]))
        config.data.train = str(tmp_path / "train.jsonl")
    config.data.eval = None
    config.grpo.max_steps = STEPS
    config.run.time_limit_s = 0.0
    config.run.eval_every = 0
    train(config, tmp_path / "run", "run")
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    first, last = metrics[:4], metrics[-4:]
    reward = (_mean([m["reward"]["mean"] for m in first]), _mean([m["reward"]["mean"] for m in last]))
    parse_failures = (_mean([m["parse_failure_rate"] for m in first]), _mean([m["parse_failure_rate"] for m in last]))
    print(f"mean reward {reward[0]:.3f} -> {reward[1]:.3f}, parse failures {parse_failures[0]:.2f} -> {parse_failures[1]:.2f}")
    # On the machine of docs/learning.md (steps 1-5 → 21-25): reward 0.27 -> 0.55, parse failures 0.39 -> 0.07.
    assert reward[1] - reward[0] > 0.1, reward
    assert parse_failures[1] < parse_failures[0] / 2, parse_failures
