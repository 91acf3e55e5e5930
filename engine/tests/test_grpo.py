"""GRPO's pieces against values worked out by hand."""
import math

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed for this Python (run bash scripts/setup.sh)")

from rollout_engine.grpo import group_advantages, k3_kl, policy_loss, zero_variance_fraction  # noqa: E402


def test_group_advantages_normalise_within_each_group():
    adv, trains = group_advantages([1.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0], 4)
    # Group 1: mean 0.25, sample std sqrt(0.25) = 0.5 → (0.75, −0.25 ×3) / 0.5.
    assert adv[:4] == pytest.approx([1.5, -0.5, -0.5, -0.5], abs=1e-5)
    assert adv[4:] == [0.0] * 4 and all(trains)
    dr, _ = group_advantages([1.0, 0.0, 0.0, 0.0], 4, scale=False)
    assert dr == pytest.approx([0.75, -0.25, -0.25, -0.25])


def test_reward_failures_are_left_out_of_advantages():
    adv, trains = group_advantages([1.0, None, 0.0, 0.0, None, None, None, 5.0], 4)
    assert trains == [True, False, True, True, False, False, False, False]
    assert adv[1] == 0.0 and adv[7] == 0.0
    assert sum(adv[:4]) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError):
        group_advantages([1.0, 2.0, 3.0], 2)


def test_zero_variance_fraction_counts_groups_without_signal():
    assert zero_variance_fraction([1, 1, 0, 1, 0, 0, None, 3], 2) == 0.75


def test_k3_is_zero_at_equal_policies_and_positive_otherwise():
    logp = torch.tensor([-1.0, -2.0])
    assert torch.allclose(k3_kl(logp, logp), torch.zeros(2))
    ref = torch.tensor([-1.5, -1.0])
    expected = [math.exp(-0.5) + 0.5 - 1, math.exp(1.0) - 1.0 - 1]
    assert k3_kl(logp, ref).tolist() == pytest.approx(expected)


def test_policy_loss_on_policy_is_minus_the_mean_advantage_and_clips_off_policy():
    logp = torch.zeros(2, 3)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    adv = torch.tensor([1.0, -1.0])
    loss, stats = policy_loss(logp, logp, adv, mask, epsilon=0.2)
    assert float(loss) == pytest.approx(0.0)  # (−1 + 1) / 2
    assert stats["clip_fraction"] == 0
    # Ratio e^0.5 > 1.2 with a positive advantage: clipped at 1.2.
    loss, stats = policy_loss(torch.full((1, 2), 0.5), torch.zeros(1, 2), torch.tensor([2.0]), torch.ones(1, 2), epsilon=0.2)
    assert float(loss) == pytest.approx(-2.4) and stats["clip_fraction"] == 1.0


def test_loss_aggregations_differ_as_documented():
    logp = torch.zeros(2, 4)
    mask = torch.tensor([[1, 0, 0, 0], [1, 1, 1, 1]])
    adv = torch.tensor([1.0, 1.0])
    grpo, _ = policy_loss(logp, logp, adv, mask, epsilon=0.2, loss_type="grpo")
    bnpo, _ = policy_loss(logp, logp, adv, mask, epsilon=0.2, loss_type="bnpo")
    dr, _ = policy_loss(logp, logp, adv, mask, epsilon=0.2, loss_type="dr_grpo", max_length=4)
    assert (float(grpo), float(bnpo), float(dr)) == pytest.approx((-1.0, -1.0, -5 / 8))
    with pytest.raises(ValueError, match="unknown loss_type"):
        policy_loss(logp, logp, adv, mask, epsilon=0.2, loss_type="ppo")


def test_kl_and_entropy_terms_enter_the_loss():
    logp = torch.tensor([[-1.0]])
    ref = torch.tensor([[-2.0]])
    base, _ = policy_loss(logp, logp, torch.tensor([0.0]), torch.ones(1, 1), epsilon=0.2)
    with_kl, stats = policy_loss(logp, logp, torch.tensor([0.0]), torch.ones(1, 1), epsilon=0.2, beta=0.5, ref_logp=ref)
    assert float(with_kl - base) == pytest.approx(0.5 * (math.exp(-1) + 1 - 1))
    assert stats["kl"] == pytest.approx(math.exp(-1))
    with_entropy, _ = policy_loss(logp, logp, torch.tensor([0.0]), torch.ones(1, 1), epsilon=0.2, entropy=torch.tensor([[2.0]]), entropy_coef=0.1)
    assert float(with_entropy) == pytest.approx(-0.2)


@pytest.mark.parametrize("loss_type", ["grpo", "bnpo", "dr_grpo"])
def test_micro_batches_add_up_to_the_whole_batch(loss_type):
    torch.manual_seed(0)
    logits = torch.randn(6, 5, requires_grad=True)
    old = torch.randn(6, 5)
    advantages = torch.randn(6)
    mask = (torch.arange(5)[None, :] < torch.tensor([5, 3, 1, 4, 2, 5])[:, None]).float()
    mask[2] = 0  # a row left out of training

    def loss_of(rows, **totals):
        return policy_loss(logits[rows], old[rows], advantages[rows], mask[rows], epsilon=0.2, loss_type=loss_type, max_length=5, **totals)[0]

    whole = torch.autograd.grad(loss_of(slice(0, 6)), logits)[0]
    totals = {"total_rows": 6, "total_tokens": float(mask.sum())}
    parts = torch.autograd.grad(loss_of(slice(0, 4), **totals) + loss_of(slice(4, 6), **totals), logits)[0]
    assert torch.allclose(whole, parts, atol=1e-6)
