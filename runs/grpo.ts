// GRPO's group arithmetic on the TypeScript side, as engine/rollout_engine/grpo.py computes it: the
// advantages of one group's rewards and whether the group teaches anything. Both languages are tested on
// test/fixtures/shared-logic/advantages.json. Replay (runs/replay.ts) uses it to say how groups move.

/**
 * GRPO's group advantages for one group, as engine/rollout_engine/grpo.py computes them: failures are
 * left out and get 0; scale false is Dr. GRPO. Both are tested on test/fixtures/shared-logic/advantages.json.
 */
export function groupAdvantages(rewards: (number | null)[], scale: boolean, eps = 1e-6): number[] {
  const kept = rewards.filter((r): r is number => r !== null);
  if (kept.length < 2) return rewards.map(() => 0);
  const mean = kept.reduce((s, r) => s + r, 0) / kept.length;
  const std = Math.sqrt(kept.reduce((s, r) => s + (r - mean) ** 2, 0) / (kept.length - 1));
  return rewards.map((r) => (r === null ? 0 : scale ? (r - mean) / (std + eps) : r - mean));
}

/** Whether a group's rewards are all equal (failures left out): it teaches nothing. As grpo.py's zero_variance_fraction. */
export function zeroVariance(rewards: (number | null)[]): boolean {
  const kept = rewards.filter((r): r is number => r !== null);
  return kept.length < 2 || kept.every((r) => r === kept[0]);
}
