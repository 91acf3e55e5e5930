// Messages between the reward host's thread and the worker that runs the schedule.

import type { TrainingTime } from "../api";
import type { RewardScore } from "../score";

export interface ComponentInfo {
  name: string;
  description: string;
  timedWeight: boolean;
  timedRange: boolean;
}

export interface RangeViolation {
  /** Index of the sample in the batch, -1 when the range itself failed. */
  sample: number;
  component: string;
  value: number;
  range: [number, number];
  message: string;
}

export type ToWorker =
  | { type: "load"; preset?: { name: string; options: { [key: string]: unknown } }; code?: string; filename?: string }
  | { type: "score"; batch: number; samples: unknown[]; time: TrainingTime; version: string; skip?: number[]; check?: boolean }
  | { type: "weights"; times: TrainingTime[] };

export type FromWorker =
  | { type: "loaded"; ok: true; name: string; description: string; components: ComponentInfo[]; options: { [key: string]: unknown } }
  | { type: "loaded"; ok: false; error: string; stack: string }
  | { type: "scored"; batch: number; scores: RewardScore[]; violations?: RangeViolation[]; error?: string }
  | { type: "weights"; rows: { time: TrainingTime; weights: { [name: string]: number } }[] };
