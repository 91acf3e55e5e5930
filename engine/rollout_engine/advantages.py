"""GRPO's group advantages in plain Python (no PyTorch): the engine's update, and the TRL and verl
integrations that only write runs, use the same numbers (runs/grpo.ts is the TypeScript side; both are
checked against test/fixtures/shared-logic/)."""
from __future__ import annotations


def _centred(values: list[float], scale: bool, eps: float) -> list[float]:
    mean = sum(values) / len(values)
    centred = [v - mean for v in values]
    if scale:
        std = (sum(c * c for c in centred) / (len(values) - 1)) ** 0.5  # unbiased, as the papers' code
        centred = [c / (std + eps) for c in centred]
    return centred


def group_advantages(rewards: list[float | None], group_size: int, scale: bool = True, eps: float = 1e-6) -> tuple[list[float], list[bool]]:
    """Advantages for consecutive groups of `group_size` rewards, and which samples train.

    A reward failure (None) is left out of its group's statistics and gets advantage 0, excluded."""
    if len(rewards) % group_size:
        raise ValueError(f"{len(rewards)} rewards do not split into groups of {group_size}")
    advantages = [0.0] * len(rewards)
    trains = [r is not None for r in rewards]
    for start in range(0, len(rewards), group_size):
        group = [(i, r) for i, r in enumerate(rewards[start:start + group_size], start) if r is not None]
        if len(group) < 2:
            for i, _ in group:
                trains[i] = False  # a lone survivor has nothing to be compared with
            continue
        for (i, _), a in zip(group, _centred([float(r) for _, r in group], scale, eps)):
            advantages[i] = a
    return advantages, trains


def advantages_by_group(rewards: list[float | None], groups: list[int], scale: bool = True, eps: float = 1e-6) -> list[float]:
    """The same for groups of any size, given each sample's group (another trainer's dump: a prompt's
    samples, however many there were); failures and groups of one get 0."""
    members: dict[int, list[int]] = {}
    for k, g in enumerate(groups):
        if rewards[k] is not None:
            members.setdefault(g, []).append(k)
    advantages = [0.0] * len(rewards)
    for ks in members.values():
        if len(ks) >= 2:
            for k, a in zip(ks, _centred([float(rewards[k]) for k in ks], scale, eps)):  # type: ignore[arg-type]
                advantages[k] = a
    return advantages


def zero_variance_fraction(rewards: list[float | None], group_size: int) -> float:
    """The fraction of groups whose rewards are all equal: they give no gradient."""
    groups = [[r for r in rewards[s:s + group_size] if r is not None] for s in range(0, len(rewards), group_size)]
    return sum(1 for g in groups if len(g) < 2 or max(g) == min(g)) / max(1, len(groups))
