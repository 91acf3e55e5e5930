// Reading samples as they arrive over the wire (the CLI's input lines, the host's batches).
// Field names are snake_case there, as the Python engine writes them.

import type { RewardSample, TrainingTime } from "./api";
import type { ToolSchema } from "./match";
import { isPyFloatObject, pyDumps, type PyValue } from "./pyjson";

export interface WireSample {
  id?: unknown;
  completion?: unknown;
  ground_truth?: unknown;
  tools?: unknown;
  step?: unknown;
  progress?: unknown;
  epoch?: unknown;
}

/** A sample from its wire form, or a message saying which field is wrong and what it should be. */
export function toRewardSample(raw: PyValue): RewardSample | string {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw) || isPyFloatObject(raw)) {
    return 'expected an object with "completion" and "ground_truth"';
  }
  const w = raw as WireSample;
  if (typeof w.completion !== "string") {
    return w.completion === undefined ? 'missing field "completion" (the model\'s output, a string)' : `field "completion" must be a string, got ${typeName(w.completion)}`;
  }
  if (w.ground_truth === undefined) return 'missing field "ground_truth" (a list of {"name", "arguments"} calls, or a tagged target string)';
  if (w.id !== undefined && typeof w.id !== "string" && typeof w.id !== "number") return `field "id" must be a string or number, got ${typeName(w.id)}`;
  if (w.tools !== undefined && !Array.isArray(w.tools)) return `field "tools" must be a list of tool schemas, got ${typeName(w.tools)}`;
  const sample: RewardSample = { completion: w.completion, groundTruth: w.ground_truth };
  if (w.id !== undefined) sample.id = String(w.id);
  if (w.tools !== undefined) sample.tools = w.tools as ToolSchema[];
  return sample;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** Reads optional step/progress/epoch fields; a message names the bad field. */
export function readTime(fields: { step?: unknown; progress?: unknown; epoch?: unknown; total_steps?: unknown }, base: TrainingTime): TrainingTime | string {
  const t: TrainingTime = { ...base };
  for (const key of ["step", "progress", "epoch", "total_steps"] as const) {
    const v = fields[key];
    if (v === undefined || v === null) continue;
    const n = typeof v === "number" ? v : isPyFloatObject(v) ? v.valueOf() : NaN;
    if (!Number.isFinite(n) || n < 0) return `field "${key}" must be a non-negative number, got ${JSON.stringify(v)}`;
    if (key === "total_steps") t.totalSteps = n;
    else t[key] = n;
  }
  return t;
}

/** What a stored trajectory record holds that its reward read (docs/run-directory.md). */
export interface StoredSampleFields {
  completion: string;
  ground_truth: { name: string; arguments: Record<string, unknown> }[];
  prompt?: { tools?: unknown[] };
}

/**
 * The ground truth as the engine sent it to the reward: ToolRL's tagged target string for the toolrl
 * template, else the call list as Python's json.dumps writes it. (Floats written as 1.0 come back from
 * JSON as 1, so such a value is sent as 1 here: the one way a replay can differ from the run.)
 */
export function storedGroundTruth(record: StoredSampleFields, template: string | undefined): string {
  if (template !== "toolrl") return pyDumps(record.ground_truth as PyValue);
  if (!record.ground_truth.length) return "<think>placeholder</think>\n<response>No tool fits this request.</response>";
  const lines = record.ground_truth.map((c) => pyDumps({ name: c.name, parameters: c.arguments } as PyValue)).join("\n");
  return `<think>placeholder</think>\n<tool_call>\n${lines}\n</tool_call>`;
}

/** A stored record as the wire sample the engine scored. */
export function storedSample(record: StoredSampleFields, template: string | undefined, id: string): WireSample {
  return { id, completion: record.completion, ground_truth: storedGroundTruth(record, template), tools: record.prompt?.tools ?? [] };
}

