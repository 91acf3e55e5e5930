"""GRPO's loss, as the papers run it, in small functions.

- advantages: per group of G samples of one prompt, (r − mean) / (std + eps); Dr. GRPO drops the std.
  Reward failures (None) get no advantage and no gradient.
- the PPO-clipped surrogate with ratio exp(logp − logp_old), clip range ε;
- KL to the reference policy as a loss term, with the low-variance k3 estimator
  exp(ref − logp) − (ref − logp) − 1 (coefficient β, 0 allowed);
- an optional entropy bonus;
- token aggregation: "grpo" (mean over each sequence's tokens, then over sequences), "bnpo" (mean over
  all tokens of the batch), "dr_grpo" (sum over tokens divided by batch size × max completion length).
"""
from __future__ import annotations

import torch

from .advantages import group_advantages, zero_variance_fraction  # noqa: F401 — the loss's inputs, kept importable from here


class NonFiniteError(RuntimeError):
    """A NaN or an infinity in a step (logits, loss, gradients or parameters): the run pauses with a
    checkpoint of the last good step instead of training on it."""


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token KL(π‖π_ref) estimate exp(ref − logp) − (ref − logp) − 1: unbiased, never negative."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1


def policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, *,
                epsilon: float, beta: float = 0.0, ref_logp: torch.Tensor | None = None, entropy: torch.Tensor | None = None,
                entropy_coef: float = 0.0, loss_type: str = "grpo", max_length: int | None = None,
                total_rows: int | None = None, total_tokens: float | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """The GRPO loss for a batch. logp, old_logp, ref_logp, entropy, mask: (B, T) over completion tokens;
    advantages: (B,). Returns the loss and statistics (clip fraction, KL, entropy, tokens).
    For a micro-batch, total_rows and total_tokens are the whole batch's: the micro-batches' losses then
    add up to the whole batch's loss, so gradient accumulation changes nothing but memory."""
    mask = mask.to(logp.dtype)
    ratio = torch.exp(logp - old_logp)
    adv = advantages[:, None]
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1 - epsilon, 1 + epsilon) * adv
    per_token = -torch.min(unclipped, clipped)
    kl = k3_kl(logp, ref_logp) if ref_logp is not None else torch.zeros_like(logp)
    if beta:
        per_token = per_token + beta * kl
    if entropy is not None and entropy_coef:
        per_token = per_token - entropy_coef * entropy
    tokens = mask.sum(dim=1).clamp(min=1)
    rows = total_rows or mask.shape[0]
    if loss_type == "grpo":
        loss = ((per_token * mask).sum(dim=1) / tokens).sum() / rows
    elif loss_type == "bnpo":
        loss = (per_token * mask).sum() / max(float(mask.sum()) if total_tokens is None else total_tokens, 1.0)
    elif loss_type == "dr_grpo":
        loss = (per_token * mask).sum() / (rows * (max_length or mask.shape[1]))
    else:
        raise ValueError(f"unknown loss_type {loss_type!r}; use grpo, bnpo or dr_grpo")
    n = mask.sum().clamp(min=1)
    with torch.no_grad():
        is_clipped = ((ratio < 1 - epsilon) & (adv < 0)) | ((ratio > 1 + epsilon) & (adv > 0))
        stats = {
            "clip_fraction": float((is_clipped.to(mask.dtype) * mask).sum() / n),
            "kl": float((kl * mask).sum() / n),
            "entropy": float((entropy * mask).sum() / n) if entropy is not None else float("nan"),
            "tokens": float(mask.sum()),
        }
    return loss, stats
