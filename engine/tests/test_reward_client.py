"""The engine's reward-host client against the real host: the same fixtures the TypeScript tests use."""
import json

import pytest

from conftest import ROOT, shared_fixture
from rollout_engine.reward_client import RewardHost, RewardHostError, RewardSource


def fixture_rows(name):
    return [json.loads(line) for line in shared_fixture(f"fixtures/rewards/{name}").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("preset,fixture", [("tool-n1", "tool-n1-fixtures.jsonl"), ("toolrl", "toolrl-fixtures.jsonl")])
def test_fixture_scores_from_python_equal_the_papers_gold(preset, fixture):
    rows = fixture_rows(fixture)
    with RewardHost(RewardSource(preset=preset)) as host:
        scores = host.score(rows, step=0, progress=0.0, epoch=0.0)
    assert [s["id"] for s in scores] == [r["id"] for r in rows]
    for row, score in zip(rows, scores):
        assert score["failure"] is None, (row["id"], score["failure"])
        assert score["total"] == row["gold"], (row["id"], score["total"], row["gold"])
        for name, gold in row.get("gold_components", {}).items():
            assert score["components"][name]["value"] == gold, (row["id"], name)


def test_step_reaches_the_schedule():
    truth = '<think>p</think>\n<tool_call>\n{"name": "f", "parameters": {}}\n</tool_call>'
    sample = {"id": "x", "completion": "no call", "ground_truth": truth}
    with RewardHost(RewardSource(preset="toolrl", options={"two_stage": True})) as host:
        early = host.score([sample], step=10, progress=0.1, epoch=0.1)[0]
        late = host.score([sample], step=40, progress=0.4, epoch=0.4)[0]
    assert (early["components"]["correctness"]["value"], late["components"]["correctness"]["value"]) == (-1, -3)


def test_a_crashed_host_is_restarted_and_the_batch_retried():
    sample = {"id": "a", "completion": '<think>x</think><tool_call>[]</tool_call>', "ground_truth": []}
    with RewardHost(RewardSource(preset="tool-n1")) as host:
        host.kill()
        scores = host.score([sample], step=1, progress=0.0, epoch=0.0)
        assert scores[0]["total"] == 1
        assert host.restarts == 1


def test_a_schedule_that_does_not_compile_is_a_clear_error():
    with pytest.raises(RewardHostError, match=r"(?s)could not be loaded: the schedule does not compile:.*broken\.ts:5:2"):
        RewardHost(RewardSource(schedule=str(ROOT / "test/reward/schedules/broken.ts"), watch=False))


def test_reward_failures_come_back_as_failures_not_zeros():
    schedule = str(ROOT / "test/reward/schedules/throws.ts")
    samples = [{"id": "ok", "completion": "fine", "ground_truth": []}, {"id": "bad", "completion": "BAD", "ground_truth": []}]
    with RewardHost(RewardSource(schedule=schedule, watch=False)) as host:
        ok, bad = host.score(samples, step=0, progress=0.0, epoch=0.0)
    assert ok["total"] == 1 and ok["failure"] is None
    assert bad["total"] is None and bad["failure"]["kind"] == "exception" and "cannot score this one" in bad["failure"]["message"]
