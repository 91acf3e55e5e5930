"""Group advantages and exact match against the fixtures the TypeScript tests read too
(test/fixtures/shared-logic/; test/runs/shared-logic.test.ts, test/reward/shared-logic.test.ts)."""
import json

import pytest
from conftest import shared_fixture

from rollout_engine.calls import same_calls


def _cases(name: str) -> list[dict]:
    return json.loads(shared_fixture(f"fixtures/shared-logic/{name}").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", _cases("advantages.json"), ids=lambda c: c["name"])
def test_group_advantages_match_the_shared_fixture(case):
    pytest.importorskip("torch", reason="PyTorch is not installed for this Python (run bash scripts/setup.sh)")
    from rollout_engine.grpo import group_advantages, zero_variance_fraction

    eps = json.loads(shared_fixture("fixtures/shared-logic/advantages.json").read_text(encoding="utf-8"))["eps"]
    advantages, trains = group_advantages(case["rewards"], case["group_size"], scale=case["scale"], eps=eps)
    assert advantages == pytest.approx(case["advantages"], rel=0, abs=1e-9)
    assert trains == case["trains"]
    g = case["group_size"]
    groups = [case["rewards"][s:s + g] for s in range(0, len(case["rewards"]), g)]
    assert [zero_variance_fraction(group, g) == 1.0 for group in groups] == case["zero_variance"]
    assert zero_variance_fraction(case["rewards"], g) == case["zero_variance_fraction"]


@pytest.mark.parametrize("case", _cases("exact-match.json"), ids=lambda c: c["name"])
def test_exact_match_matches_the_shared_fixture(case):
    assert same_calls(case["predicted"], case["truth"]) is case["exact"]
