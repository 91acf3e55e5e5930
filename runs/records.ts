// The run directory's records as TypeScript types: the contract of docs/run-directory.md, written by the
// engine (Python) and read by the extension. The same fixture run is read by tests on both sides.

export type RunStatus = "running" | "paused" | "finished" | "stopped" | string;

export interface RunInfo {
  id: string;
  status: RunStatus;
  step: number;
  reward_versions: string[];
  config: { data?: { template?: string }; reward?: { preset?: string | null; schedule?: string | null }; grpo?: { max_steps?: number }; [table: string]: unknown };
  base?: string | null;
  reward_version_steps?: Record<string, number>;
  checkpoints?: { step: number; path: string }[];
  started_at?: number;
  finished_at?: number;
  summary?: Record<string, unknown> | null;
}

export interface Stat {
  mean: number;
  min: number;
  max: number;
}

export interface StepMetrics {
  step: number;
  elapsed_s: number;
  learning_rate: number;
  /** The training time the step's rewards were scored at (runs from before it was recorded lack it). */
  time?: { step: number; progress: number; epoch: number };
  reward: Stat;
  components: Record<string, Stat & { raw_mean?: number; weight?: number }>;
  format_pass_rate: number;
  parse_failure_rate: number;
  parse_failures: Record<string, number>;
  exact_match_rate: number;
  reward_failures: number;
  zero_variance_groups: number;
  advantage: Stat;
  kl: number | null;
  entropy: number | null;
  clip_fraction: number | null;
  grad_norm: number | null;
  update_skipped: boolean;
  completion_length: { mean: number; max: number };
  truncation_rate: number;
  tokens_per_s: { rollout: number; train: number };
  time_s: { rollout: number; reward: number; update: number; write?: number };
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface ComponentScore {
  raw: number;
  weight: number;
  value: number;
  why: string;
  /** Where the schedule decided the value (a rule() call): line and column, and the file when not the schedule itself. */
  at?: { line: number; column: number; file?: string };
}

export interface TrajectoryRecord {
  run: string;
  step: number;
  prompt_id: string;
  group: number;
  sample: number;
  policy_version: number;
  reward_version: string;
  prompt: { messages: { role: string; content: string }[]; tools: unknown[] };
  completion: string;
  calls: ToolCall[] | null;
  parse_failure: { reason: string; message: string; position?: number } | null;
  ground_truth: ToolCall[];
  reward: number | null;
  components: Record<string, ComponentScore>;
  failure: { kind: string; message: string; component?: string } | null;
  advantage: number;
  trained: boolean;
  prompt_tokens: number;
  completion_tokens: number;
  finish_reason: "stop" | "length" | string;
}

export interface EvalResult {
  split: string;
  step: number;
  samples: number;
  strict_accuracy: number;
  mean_reward: number;
  elapsed_s?: number;
}

/** A reward version as stored in rewards/<version>.json. */
export interface RewardVersion {
  version: string;
  schedule?: unknown;
  first_step?: number | null;
  source_file?: string | null;
  source?: string | null;
}

/** Checks the fields a trajectory record must have; returns what is wrong, or null. */
export function recordProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const r = value as Record<string, unknown>;
  for (const [field, type] of [["step", "number"], ["prompt_id", "string"], ["group", "number"], ["sample", "number"], ["completion", "string"], ["reward_version", "string"]] as const) {
    if (typeof r[field] !== type) return `"${field}" must be a ${type}`;
  }
  if (r.reward !== null && typeof r.reward !== "number") return `"reward" must be a number or null`;
  if (typeof r.components !== "object" || r.components === null) return `"components" must be an object`;
  return null;
}

/** Checks a metrics line; returns what is wrong, or null. */
export function metricsProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const m = value as Record<string, unknown>;
  if (typeof m.step !== "number") return `"step" must be a number`;
  if (typeof m.reward !== "object" || m.reward === null) return `"reward" must be an object`;
  return null;
}
