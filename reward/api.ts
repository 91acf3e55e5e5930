// The reward-schedule API: what a schedule file imports as "rollout-studio".
//
// A schedule is a set of named components. Each component scores a sample and says why; its weight (and
// its declared range) may depend on the training step and progress; a combine function (a weighted sum
// unless given) makes the total. The papers' presets are written with this same API.
//
//   import { defineSchedule } from "rollout-studio";
//   export default defineSchedule({
//     name: "my-reward",
//     components: {
//       format: { range: [0, 1], score: ({ parsed }) => parsed.think !== null ? { value: 1, why: "has <think>" } : { value: 0, why: "no <think>" } },
//       exact: { range: [0, 1], weight: (t) => Math.min(1, t.step / 50), score: ({ calls, truth }) => ... },
//     },
//   });

import type { ParsedCompletion, ParseFailure, ToolCall } from "./parse";
import { parseCompletion, parseGroundTruth, isParseFailure } from "./parse";
import type { ToolSchema } from "./match";
import type { ComponentScore } from "../contract/types";

export type { ParsedCompletion, ParseFailure, ParseFailureReason, ToolCall, CallStyle, ChatTemplate } from "./parse";
export type { ToolSchema, AstError, AstMatch, ValueMode, AssignmentMethod, CallPair } from "./match";
export type { PyValue, PyFloat } from "./pyjson";
export {
  parseCompletion, parseGroundTruth, parsePythonCalls, stripChatTemplate, tagBlocks, firstTag, isParseFailure, PARSE_FAILURE_REASONS,
} from "./parse";
export {
  exactCallsMatch, namesMatch, callsEqualInOrder, multisetJaccard, valueCredit, callCredit, assignCalls, astCheck,
  astMatchCalls, tokenize, tokenRecall, callTokens, canonicalValue,
} from "./match";
export { parsePyJson, pyDumps, pyEquals, isPyFloat, isPyInt, toPlain } from "./pyjson";
export { explainCallMismatch } from "./explain";
export { rule } from "./attribution";
export type { SourceLocation } from "./attribution";

/** Where training is when a sample is scored. Schedules depend on it. */
export interface TrainingTime {
  /** Global optimizer step (the papers count from 1; 0 before training). */
  step: number;
  /** Fraction of training done, in [0, 1]. */
  progress: number;
  /** Fractional epoch: steps done divided by steps per epoch. */
  epoch: number;
  /** Planned number of steps, when known. */
  totalSteps?: number;
}

/** One sample to score: a completion and what it should have done. */
export interface RewardSample {
  id?: string;
  completion: string;
  /** A list of {name, arguments} calls, its JSON text, ToolRL's tagged target string, or Python call syntax. */
  groundTruth: unknown;
  /** The candidate tools as JSON schemas, when the dataset has them. */
  tools?: ToolSchema[];
}

/** A component's value and a short human explanation of it. */
export interface Explained {
  value: number;
  why: string;
}

/** A number, or a function of the training time giving one. */
export type Timed<T> = T | ((t: TrainingTime) => T);

/** What every schedule's prepare step yields; components receive it. */
export interface Prepared {
  sample: RewardSample;
  /** The parsed predicted calls, or null when the completion did not parse. */
  calls: ToolCall[] | null;
  parseFailure: ParseFailure | null;
}

/** What the default prepare step yields: the general parser's result and the ground-truth calls. */
export interface DefaultPrepared extends Prepared {
  parsed: ParsedCompletion;
  truth: ToolCall[];
}

export interface ComponentSpec<C extends Prepared = DefaultPrepared> {
  description?: string;
  /** Declared [min, max] of the component's value; checked when a new version loads. */
  range?: Timed<readonly [number, number]>;
  /** Multiplies the value in the default weighted sum. 1 when not given. */
  weight?: Timed<number>;
  score(context: C, t: TrainingTime): Explained | number;
}

/** A component's result in a score (contract/ defines it: it crosses to the engine and the run directory). */
export type { ComponentScore };

export interface ScheduleSpec<C extends Prepared = DefaultPrepared> {
  name: string;
  description?: string;
  /** Parses a sample once for all components. Defaults to the general parser (any supported call style). */
  prepare?: (sample: RewardSample, t: TrainingTime) => C;
  components: { [name: string]: ComponentSpec<C> };
  /** Makes the total from the components. Defaults to the sum of weighted values, in declaration order. */
  combine?: (parts: { [name: string]: ComponentScore }, t: TrainingTime, context: C) => Explained | number;
  /** Settings the schedule was made with; part of its version. */
  options?: { [key: string]: unknown };
}

export interface Schedule<C extends Prepared = DefaultPrepared> extends ScheduleSpec<C> {
  readonly kind: "rollout-studio/schedule";
  readonly prepare: (sample: RewardSample, t: TrainingTime) => C;
}

/** A schedule whatever its prepared context: what the runtime handles. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySchedule = Schedule<any>;

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScheduleError";
  }
}

/**
 * Thrown (by a prepare step or a component) when the sample itself is wrong, not the schedule's code: a
 * ground truth of the wrong type, say. The sample becomes a `bad_input` reward failure that names the
 * field (e.g. `ground_truth`) and what was expected, instead of an `exception`.
 */
export class BadInputError extends Error {
  /** The sample's field as the wire names it (`ground_truth`, `completion`, `tools`). */
  readonly field: string;
  /** What the field should have been, e.g. 'a list of {"name", "arguments"} calls or their JSON text'. */
  readonly expected: string;
  /** `problem` says what it was instead: "got a number", "its text is not JSON: …". */
  constructor(field: string, expected: string, problem: string) {
    super(`field "${field}" must be ${expected}; ${problem}`);
    this.name = "BadInputError";
    this.field = field;
    this.expected = expected;
  }
}

/** A JSON value's type in words, for messages: "a number", "an object", "a list", "null". */
export function jsonTypeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return typeof value === "undefined" ? "nothing" : `a ${typeof value}`;
}

/** What the default prepare step (and tool-zero) accept as a ground truth. */
const CALLS_EXPECTED = 'a list of {"name", "arguments"} calls, their JSON text, ToolRL\'s tagged target string or Python call syntax';

/** The default prepare step: the general parser and the ground truth's calls. */
export function defaultPrepare(sample: RewardSample): DefaultPrepared {
  const parsed = parseCompletion(sample.completion);
  const truth = readGroundTruthCalls(sample.groundTruth);
  return { sample, parsed, truth, calls: parsed.calls, parseFailure: parsed.failure };
}

/** The ground truth's calls (see parseGroundTruth); one that cannot be read throws BadInputError. */
export function readGroundTruthCalls(groundTruth: unknown): ToolCall[] {
  const truth = parseGroundTruth(groundTruth);
  if (!isParseFailure(truth)) return truth;
  const problem = typeof groundTruth === "string" ? `its text could not be read: ${truth.message}` : truth.reason === "not_a_list" ? `got ${jsonTypeName(groundTruth)}` : `got ${jsonTypeName(groundTruth)} that could not be read: ${truth.message}`;
  throw new BadInputError("ground_truth", CALLS_EXPECTED, problem);
}

function checkTimed(value: unknown, where: string, isValue: (v: unknown) => boolean, expected: string): void {
  if (value === undefined || typeof value === "function") return;
  if (!isValue(value)) throw new ScheduleError(`${where} must be ${expected} or a function of the training time (step, progress, epoch)`);
}

const isFiniteNumber = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);
const isRange = (v: unknown): boolean => Array.isArray(v) && v.length === 2 && v.every(isFiniteNumber) && (v[0] as number) <= (v[1] as number);

/** Checks a schedule's shape and returns it marked as a schedule. Errors name the field to fix. */
export function defineSchedule<C extends Prepared = DefaultPrepared>(spec: ScheduleSpec<C>): Schedule<C> {
  if (spec === null || typeof spec !== "object") throw new ScheduleError("defineSchedule expects an object with a name and components");
  if (typeof spec.name !== "string" || spec.name.trim() === "") throw new ScheduleError('the schedule needs a "name" (a non-empty string)');
  if (spec.components === null || typeof spec.components !== "object" || Object.keys(spec.components).length === 0) {
    throw new ScheduleError(`schedule "${spec.name}": "components" must be an object with at least one named component`);
  }
  for (const [name, c] of Object.entries(spec.components)) {
    const where = `schedule "${spec.name}", component "${name}"`;
    if (c === null || typeof c !== "object") throw new ScheduleError(`${where} must be an object with a score function`);
    if (typeof c.score !== "function") throw new ScheduleError(`${where} has no score function (score(context, t) => { value, why })`);
    checkTimed(c.weight, `${where}: weight`, isFiniteNumber, "a finite number");
    checkTimed(c.range, `${where}: range`, isRange, "[min, max] with min <= max");
  }
  if (spec.prepare !== undefined && typeof spec.prepare !== "function") throw new ScheduleError(`schedule "${spec.name}": prepare must be a function`);
  if (spec.combine !== undefined && typeof spec.combine !== "function") throw new ScheduleError(`schedule "${spec.name}": combine must be a function`);
  const prepare = (spec.prepare ?? defaultPrepare) as (sample: RewardSample, t: TrainingTime) => C;
  return { ...spec, prepare, kind: "rollout-studio/schedule" };
}

export function isSchedule(x: unknown): x is AnySchedule {
  return typeof x === "object" && x !== null && (x as { kind?: unknown }).kind === "rollout-studio/schedule";
}

/** Evaluates a Timed value at a training time. */
export function at<T>(value: Timed<T> | undefined, t: TrainingTime, fallback: T): T {
  if (value === undefined) return fallback;
  return typeof value === "function" ? (value as (t: TrainingTime) => T)(t) : value;
}

/** The logistic curve 1 / (1 + e^(−κ(x − m))): Tool Zero's shift from exploratory to exploitative reward. */
export function sigmoid(x: number, steepness: number, midpoint: number): number {
  return 1 / (1 + Math.exp(-steepness * (x - midpoint)));
}

/** Maps a fraction in [0, 1] linearly onto [min, max]. */
export function rescale(fraction: number, range: readonly [number, number]): number {
  return (range[1] - range[0]) * fraction + range[0];
}

/** A training time from possibly partial information; missing fields are 0. */
export function trainingTime(t: Partial<TrainingTime> = {}): TrainingTime {
  const out: TrainingTime = { step: t.step ?? 0, progress: t.progress ?? 0, epoch: t.epoch ?? 0 };
  if (t.totalSteps !== undefined) out.totalSteps = t.totalSteps;
  return out;
}

/** A stored sample as a monitor sees it (docs/debugging.md). */
export interface MonitorSample {
  step: number;
  group: number;
  sample: number;
  promptId: string;
  completion: string;
  /** The parsed calls, or null when the completion did not parse. */
  calls: ToolCall[] | null;
  /** The parse failure's reason, when there was one. */
  parseFailure: string | null;
  groundTruth: ToolCall[];
  /** null for a reward failure. */
  reward: number | null;
  /** Weighted component values by name. */
  components: { [name: string]: number };
  failure: string | null;
  advantage: number;
  completionTokens: number;
  rewardVersion: string;
  exact: boolean;
}

/** The step a monitor runs on: all of its samples, for predicates that compare a sample with its step. */
export interface MonitorStep {
  step: number;
  samples: MonitorSample[];
}

export interface MonitorSpec {
  title?: string;
  description?: string;
  /** True for the samples this monitor flags. */
  match(sample: MonitorSample, step: MonitorStep): boolean;
}

export interface Monitors {
  readonly kind: "rollout-studio/monitors";
  monitors: { [id: string]: MonitorSpec };
}

/** Declares monitors: named predicates over stored samples, evaluated every step and counted on the dashboard. */
export function defineMonitors(monitors: { [id: string]: MonitorSpec }): Monitors {
  if (monitors === null || typeof monitors !== "object") throw new ScheduleError("defineMonitors expects an object of named monitors");
  for (const [id, spec] of Object.entries(monitors)) {
    if (spec === null || typeof spec !== "object" || typeof spec.match !== "function") throw new ScheduleError(`monitor "${id}" needs a match(sample, step) function returning true for the samples it flags`);
  }
  return { kind: "rollout-studio/monitors", monitors };
}

export function isMonitors(x: unknown): x is Monitors {
  return typeof x === "object" && x !== null && (x as { kind?: unknown }).kind === "rollout-studio/monitors";
}
