// Messages between the reward host's thread and the worker that runs the schedule: inside one process,
// so not part of the contract. What crosses to other processes (the host's requests, replies and events,
// and what they are made of) is defined in contract/reward-host.schema.json.

import type { RequestId } from "../../contract/types";
import type { TrainingTime } from "../api";
import type { RewardFailure, RewardScore } from "../score";

export type { ComponentInfo } from "../../contract/types";
import type { ComponentInfo } from "../../contract/types";

export interface RangeViolation {
  /** Index of the sample in the batch, -1 when the range itself failed. */
  sample: number;
  component: string;
  value: number;
  range: [number, number];
  message: string;
}

/**
 * Samples already settled by the host (they hung or crashed an earlier worker), by index, with their
 * failure. With `rest`, every other sample gets that failure too (the host gave up on the batch).
 */
export type Settled = [number, RewardFailure][];

export type ToWorker =
  | { type: "load"; preset?: { name: string; options: { [key: string]: unknown } }; code?: string; filename?: string }
  | { type: "score"; batch: number; samples: unknown[]; time: TrainingTime; version: string; settled: Settled; rest?: RewardFailure; check?: boolean }
  // A request line of the host protocol, parsed and answered in the worker so that no objects cross threads.
  | { type: "request"; batch: number; line: string; lineNumber: number; version: string; settled: Settled; rest?: RewardFailure; shard?: Shard }
  // Replay: score lines [from, to) of a stored rollout file (the worker reads and parses them itself).
  | { type: "records"; batch: number; file: string; template?: string; from: number; to: number; time: TrainingTime; version: string; settled: Settled; rest?: RewardFailure }
  | { type: "recent" }
  | { type: "weights"; times: TrainingTime[] };

/** Which contiguous share of a batch's samples one of several workers scores. */
export interface Shard {
  index: number;
  count: number;
}

/** A score reply in three pieces, so the host can join the scores of several workers in order. */
export interface ReplyParts {
  head: string;
  /** The shard's scores as JSON, comma-separated, without brackets ("" when the shard is empty). */
  body: string;
  tail: string;
}

/** A protocol request that is not a score request: the host's thread handles it (the method may be unknown). */
export interface ControlRequest {
  /** As the client sent it: a RequestId, or null when the line did not say. */
  id: RequestId | null;
  method: string;
  params: { [key: string]: unknown };
}

/**
 * What a schedule printed, or threw, outside the sample being scored: at load, from a timer or promise
 * started at load or between batches, or started by a sample whose score was already sent (`sample`).
 */
export interface ScheduleOutput {
  stream: "stdout" | "stderr";
  text: string;
  /** load: while the schedule loaded; idle: outside any sample; late: from code a sample started, after its score was sent. */
  during: "load" | "idle" | "late";
  /** The sample (its id, or #index) that started the code that printed or threw, for `late`. */
  sample?: string;
  /** An error thrown by a timer or promise callback (the text is its stack), not printed output. */
  error?: boolean;
}

export type FromWorker =
  | { type: "loaded"; ok: true; name: string; description: string; components: ComponentInfo[]; options: { [key: string]: unknown } }
  | { type: "loaded"; ok: false; error: string; stack: string }
  // With `check`: each sample's scoring time in milliseconds, for the contract check's latency.
  | { type: "scored"; batch: number; scores: RewardScore[]; violations?: RangeViolation[]; latencies?: number[]; error?: string }
  | { type: "reply"; batch: number; text: string; parts?: ReplyParts }
  | { type: "replayed"; batch: number; scores: CompactScores; error?: string }
  | { type: "control"; batch: number; request: ControlRequest }
  | { type: "recent"; samples: unknown[]; time: TrainingTime }
  | { type: "weights"; rows: { time: TrainingTime; weights: { [name: string]: number } }[] }
  | ({ type: "output" } & ScheduleOutput)
  // The worker holds more memory outside the JS heap than its limit: after sample `index` of the batch,
  // or before its first sample (-1: taken outside any sample). The host replaces the worker.
  | { type: "over_memory"; batch: number; index: number; bytes: number };

/** Scores in columns, cheap to pass between threads: NaN marks a failure (total) or a missing component. */
export interface CompactScores {
  totals: Float64Array;
  failures: (string | null)[];
  components: { [name: string]: Float64Array };
}
