// Monitors: saved queries over a run's rollouts, evaluated at every step, each giving the samples it
// flags (the dashboard shows the counts and opens the samples). Built in: the reward-hacking and
// failure patterns tool-calling RL runs show; users add their own as TypeScript predicates
// (docs/debugging.md). Runs in `rollout-studio monitors` (its own process), never in VS Code's host.

import { exactCallsMatch } from "../reward/match";
import type { MonitorSample, MonitorSpec, MonitorStep } from "../reward/api";
import type { StepMetrics, ToolCall, TrajectoryRecord } from "./records";

export interface MonitorResult {
  id: string;
  title: string;
  /** Flagged samples as [group, sample]; for step-level monitors, every sample of the step when it fires. */
  flagged: [number, number][];
  /** Set when a user predicate threw: the monitor's count is unknown for this step. */
  error?: string;
}

export interface StepMonitors {
  step: number;
  samples: number;
  results: MonitorResult[];
  /** Lines of the step's rollout file that could not be read: the monitors did not see those samples. */
  unreadable?: { file: string; line: number; error: string }[];
}

const key = (c: ToolCall) => `${c.name}\u0000${JSON.stringify(Object.entries(c.arguments ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))}`;

function parsedCalls(r: TrajectoryRecord): ToolCall[] | null {
  return r.parse_failure === null && Array.isArray(r.calls) ? r.calls : null;
}

/** Right format but the wrong function: the calls parse, and one of them names a function the ground truth does not call. */
function wrongFunction(r: TrajectoryRecord): boolean {
  const calls = parsedCalls(r);
  if (!calls || calls.length === 0) return false;
  const wanted = new Set(r.ground_truth.map((c) => c.name));
  return calls.some((c) => !wanted.has(c.name));
}

/** Extra or invented arguments: a call to an expected function with an argument the expected call does not have (or the tool's schema does not define). */
function inventedArguments(r: TrajectoryRecord): boolean {
  const calls = parsedCalls(r);
  if (!calls) return false;
  const tools = new Map((r.prompt?.tools as { name?: string; parameters?: { properties?: Record<string, unknown> } }[] | undefined ?? []).map((t) => [t.name, t.parameters?.properties]));
  return calls.some((call) => {
    const truth = r.ground_truth.filter((t) => t.name === call.name);
    const schema = tools.get(call.name);
    return Object.keys(call.arguments ?? {}).some((arg) => (schema ? !(arg in schema) : false) || (truth.length > 0 && truth.every((t) => !(arg in t.arguments))));
  });
}

/** Repeated or spammed calls: the same call twice, or more than twice as many calls as expected (at least 2 more). */
function repeatedCalls(r: TrajectoryRecord): boolean {
  const calls = parsedCalls(r);
  if (!calls || calls.length < 2) return false;
  if (new Set(calls.map(key)).size < calls.length) return true;
  return calls.length >= Math.max(2 * r.ground_truth.length, r.ground_truth.length + 2);
}

function pearson(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

/** Length drift within groups: the reward follows length (correlation ≥ 0.8) and the lengths differ by half their mean or more. */
function lengthDriftGroups(records: TrajectoryRecord[]): [number, number][] {
  const groups = new Map<number, TrajectoryRecord[]>();
  for (const r of records) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  const out: [number, number][] = [];
  for (const members of groups.values()) {
    const scored = members.filter((m) => m.reward !== null);
    if (scored.length < 3) continue;
    const lengths = scored.map((m) => m.completion_tokens);
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    const spread = Math.max(...lengths) - Math.min(...lengths);
    if (mean > 0 && spread >= 0.5 * mean && pearson(lengths, scored.map((m) => m.reward as number)) >= 0.8) out.push(...members.map((m): [number, number] => [m.group, m.sample]));
  }
  return out;
}

/**
 * Reward rising while exact calls do not: over the last `window` steps against the `window` before, the
 * mean reward rose (by at least `minRise`) and the exact-match rate did not. A reward that pays for
 * something other than right calls (format alone, a faded correctness weight) shows this first.
 */
export function rewardUpExactDown(history: StepMetrics[], window = 5, minRise = 0.02): boolean {
  if (history.length < 2 * window) return false;
  const mean = (rows: StepMetrics[], f: (m: StepMetrics) => number) => rows.reduce((s, m) => s + f(m), 0) / rows.length;
  const recent = history.slice(-window);
  const before = history.slice(-2 * window, -window);
  return mean(recent, (m) => m.reward.mean) - mean(before, (m) => m.reward.mean) >= minRise && mean(recent, (m) => m.exact_match_rate) <= mean(before, (m) => m.exact_match_rate);
}

/**
 * The reward saturated without right calls: nearly every group's rewards are all equal (GRPO learns
 * nothing more from them) while most samples' calls are wrong. The end state of a reward hack.
 */
export function rewardSaturated(step: StepMetrics | undefined, zeroVariance = 0.9, maxExact = 0.5): boolean {
  return step !== undefined && step.zero_variance_groups >= zeroVariance && step.exact_match_rate < maxExact;
}

export const BUILT_IN_MONITORS: { id: string; title: string; description: string }[] = [
  { id: "wrong-function", title: "Format right, wrong function", description: "the calls parse, but one names a function the ground truth does not call" },
  { id: "invented-arguments", title: "Extra or invented arguments", description: "an argument the expected call (or the tool's schema) does not have" },
  { id: "repeated-calls", title: "Repeated or spammed calls", description: "the same call twice, or far more calls than expected" },
  { id: "reward-up-exact-down", title: "Reward up, exact match not", description: "over the last 5 steps against the 5 before: the mean reward rose (by 0.02 or more) while the exact-match rate did not" },
  { id: "reward-saturated", title: "Reward saturated, calls wrong", description: "90 % or more of the step's groups have no reward variance while under half of its samples are exact calls" },
  { id: "length-drift", title: "Length drift within groups", description: "in a group, the reward follows completion length (r ≥ 0.8) and lengths differ by half their mean" },
];

/** A record as a user predicate sees it. */
export function monitorSample(r: TrajectoryRecord): MonitorSample {
  return {
    step: r.step, group: r.group, sample: r.sample, promptId: r.prompt_id, completion: r.completion, calls: r.calls as MonitorSample["calls"], parseFailure: r.parse_failure?.reason ?? null,
    groundTruth: r.ground_truth as MonitorSample["groundTruth"], reward: r.reward, components: Object.fromEntries(Object.entries(r.components ?? {}).map(([n, c]) => [n, c.value])),
    failure: r.failure?.message ?? null, advantage: r.advantage, completionTokens: r.completion_tokens, rewardVersion: r.reward_version,
    exact: r.calls ? exactCallsMatch(r.calls as never, r.ground_truth as never) : false,
  };
}

/** Every monitor on one step's records; `history` is the metrics up to and including this step. */
export function evaluateMonitors(records: TrajectoryRecord[], history: StepMetrics[], user: { id: string; spec: MonitorSpec }[] = []): StepMonitors {
  const step = records[0]?.step ?? history[history.length - 1]?.step ?? 0;
  const pick = (test: (r: TrajectoryRecord) => boolean) => records.filter(test).map((r): [number, number] => [r.group, r.sample]);
  const all = records.map((r): [number, number] => [r.group, r.sample]);
  const results: MonitorResult[] = [
    { id: "wrong-function", title: "Format right, wrong function", flagged: pick(wrongFunction) },
    { id: "invented-arguments", title: "Extra or invented arguments", flagged: pick(inventedArguments) },
    { id: "repeated-calls", title: "Repeated or spammed calls", flagged: pick(repeatedCalls) },
    { id: "reward-up-exact-down", title: "Reward up, exact match not", flagged: rewardUpExactDown(history) ? all : [] },
    { id: "reward-saturated", title: "Reward saturated, calls wrong", flagged: rewardSaturated(history.find((m) => m.step === step)) ? all : [] },
    { id: "length-drift", title: "Length drift within groups", flagged: lengthDriftGroups(records) },
  ];
  const samples = user.length ? records.map(monitorSample) : [];
  const context: MonitorStep = { step, samples };
  for (const { id, spec } of user) {
    const flagged: [number, number][] = [];
    try {
      for (const s of samples) if (spec.match(s, context) === true) flagged.push([s.group, s.sample]);
      results.push({ id, title: spec.title ?? id, flagged });
    } catch (err) {
      results.push({ id, title: spec.title ?? id, flagged: [], error: `monitor "${id}" threw: ${(err as Error)?.message ?? String(err)}` });
    }
  }
  return { step, samples: records.length, results };
}
