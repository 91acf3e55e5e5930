// Running a schedule on samples. A reward that throws or gives a non-finite number is a reward
// failure for that sample, with the message: never a silent 0, never a crash of the batch.

import { at, BadInputError, type ComponentScore, type Explained, type Prepared, type RewardSample, type AnySchedule, type TrainingTime } from "./api";
import type { SourceLocation } from "./attribution";

/** Finds where a component's result was decided (see attribution.ts); null when unknown. */
export type Locate = (result: unknown) => SourceLocation | null;

// A reward failure and a schedule's printed output are part of the reward-host protocol: contract/ defines them.
import type { LogEntry, RewardFailure, Score } from "../contract/types";
export type { LogEntry, RewardFailure };
export type RewardFailureKind = RewardFailure["kind"];

/** One sample's score, as the reward host replies it: contract/ defines it. */
export type RewardScore = Score;

function explained(result: Explained | number): Explained {
  if (typeof result === "number") return { value: result, why: "" };
  if (result === null || typeof result !== "object") return { value: Number.NaN, why: `returned ${String(result)}` };
  return { value: result.value, why: typeof result.why === "string" ? result.why : "" };
}

function errorFailure(err: unknown, component?: string): RewardFailure {
  if (err instanceof BadInputError) {
    // The sample is wrong, not the code: say which field and what it should be.
    const failure: RewardFailure = { kind: "bad_input", message: err.message, field: err.field };
    if (component) failure.component = component;
    return failure;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const failure: RewardFailure = { kind: "exception", message: `${component ? `component "${component}" ` : ""}threw: ${e.message}` };
  if (component) failure.component = component;
  if (e.stack) failure.stack = e.stack;
  return failure;
}

export function failedScore(sample: { id?: string }, version: string, failure: RewardFailure, extra: Partial<RewardScore> = {}): RewardScore {
  const out: RewardScore = { total: null, components: {}, calls: null, parseFailure: null, failure, version, ...extra };
  if (sample.id !== undefined) out.id = sample.id;
  return out;
}

/** Scores one sample. Never throws: failures of the schedule's code become the score's `failure`. */
export function scoreSample(schedule: AnySchedule, sample: RewardSample, t: TrainingTime, version: string, locate?: Locate): RewardScore {
  let prepared: Prepared;
  try {
    prepared = schedule.prepare(sample, t);
  } catch (err) {
    const failure = errorFailure(err);
    return failedScore(sample, version, failure.kind === "bad_input" ? failure : { ...failure, message: `preparing the sample failed: ${(err as Error)?.message ?? String(err)}` });
  }
  const base = { calls: prepared.calls, parseFailure: prepared.parseFailure };
  const components: { [name: string]: ComponentScore } = {};
  let sum = 0;
  for (const name in schedule.components) {
    const spec = schedule.components[name] as AnySchedule["components"][string];
    let result: Explained;
    let weight: number;
    let site: SourceLocation | null = null;
    try {
      const returned = spec.score(prepared, t);
      if (locate) site = locate(returned);
      result = explained(returned);
      weight = at(spec.weight, t, 1);
    } catch (err) {
      return failedScore(sample, version, errorFailure(err, name), { ...base, components });
    }
    if (typeof result.value !== "number" || !Number.isFinite(result.value) || !Number.isFinite(weight)) {
      const what = !Number.isFinite(weight) ? `weight ${String(weight)}` : `value ${typeof result.value === "number" ? String(result.value) : typeof result.value}`;
      return failedScore(sample, version, { kind: "non_finite", component: name, message: `component "${name}" gave ${what}, not a finite number` }, { ...base, components });
    }
    const value = weight === 1 ? result.value : result.value * weight;
    components[name] = site ? { raw: result.value, weight, value, why: result.why, at: site } : { raw: result.value, weight, value, why: result.why };
    sum += value;
  }
  let total = sum;
  let why: string | undefined;
  if (schedule.combine) {
    try {
      const combined = explained(schedule.combine(components, t, prepared));
      total = combined.value;
      if (combined.why) why = combined.why;
    } catch (err) {
      const failure = errorFailure(err);
      return failedScore(sample, version, failure.kind === "bad_input" ? failure : { ...failure, message: `combine threw: ${(err as Error)?.message ?? String(err)}` }, { ...base, components });
    }
    if (typeof total !== "number" || !Number.isFinite(total)) {
      return failedScore(sample, version, { kind: "non_finite", message: `combine gave ${String(total)}, not a finite number` }, { ...base, components });
    }
  }
  const out: RewardScore = { total, components, ...base, failure: null, version };
  if (why !== undefined) out.why = why;
  if (sample.id !== undefined) out.id = sample.id;
  return out;
}
