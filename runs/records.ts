// The run directory's records (docs/run-directory.md). Their one definition is the contract's JSON Schema
// (contract/run-directory.schema.json); the types come from it (contract/types.ts, `npm run contract`).
// The engine (Python) writes them and the extension reads them; both sides are tested on the same fixtures.
// The checks below are the readers' own: lenient (a field a reader does not need may be missing), and
// saying in words which field is wrong.

export type {
  Checkpoint,
  ComponentScore,
  ComponentStat,
  EvalResult,
  IndexRow,
  RewardVersion,
  RunConfig,
  RunInfo,
  RunStatus,
  Stat,
  StepMetrics,
  ToolCall,
  TrajectoryRecord,
} from "../contract/types";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const shown = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "string" ? `"${v.length > 40 ? v.slice(0, 40) + "…" : v}"` : typeof v === "object" ? "an object" : String(v));

/** Checks the fields of run.json that readers rely on; returns what is wrong (naming the field), or null. */
export function runInfoProblem(value: unknown): string | null {
  if (!isObject(value)) return "it is not a JSON object";
  const wrong = (field: string, want: string, v: unknown) => `"${field}" must be ${want}, found ${shown(v)}`;
  if (typeof value.status !== "string") return value.status === undefined ? `it has no "status": not a Rollout Studio run` : wrong("status", "a string", value.status);
  const optional: [string, string, (v: unknown) => boolean][] = [
    ["schema_version", "a whole number of 1 or more", (v) => Number.isInteger(v) && (v as number) >= 1],
    ["id", "a string", (v) => typeof v === "string"],
    ["step", "a whole number", (v) => Number.isInteger(v)],
    ["reward_versions", "a list of version strings", (v) => Array.isArray(v) && v.every((x) => typeof x === "string")],
    ["config", "an object", isObject],
    ["base", "a string or null", (v) => v === null || typeof v === "string"],
    ["reward_version_steps", "an object of step numbers", (v) => isObject(v) && Object.values(v).every((x) => typeof x === "number")],
    ["checkpoints", 'a list of {"step": number, "path": string}', (v) => Array.isArray(v) && v.every((c) => isObject(c) && typeof c.step === "number" && typeof c.path === "string")],
    ["started_at", "a number", (v) => typeof v === "number"],
    ["finished_at", "a number", (v) => typeof v === "number"],
    ["summary", "an object or null", (v) => v === null || isObject(v)],
  ];
  for (const [field, want, ok] of optional) if (value[field] !== undefined && !ok(value[field])) return wrong(field, want, value[field]);
  const config = value.config as Record<string, unknown> | undefined;
  if (config) {
    for (const table of ["data", "reward", "grpo", "policy", "run"]) if (config[table] !== undefined && !isObject(config[table])) return wrong(`config.${table}`, "an object", config[table]);
    const data = config.data as Record<string, unknown> | undefined;
    if (data?.template !== undefined && typeof data.template !== "string") return wrong("config.data.template", "a string", data.template);
    const reward = config.reward as Record<string, unknown> | undefined;
    for (const key of ["preset", "schedule"]) if (reward?.[key] !== undefined && reward[key] !== null && typeof reward[key] !== "string") return wrong(`config.reward.${key}`, "a string or null", reward[key]);
    const grpo = config.grpo as Record<string, unknown> | undefined;
    for (const key of ["max_steps", "num_generations"]) if (grpo?.[key] !== undefined && typeof grpo[key] !== "number") return wrong(`config.grpo.${key}`, "a number", grpo[key]);
  }
  return null;
}

/** Checks a stored reward version (rewards/<version>.json); returns what is wrong, or null. */
export function rewardVersionProblem(value: unknown): string | null {
  if (!isObject(value)) return "it is not a JSON object";
  if (typeof value.version !== "string") return `"version" must be a string, found ${shown(value.version)}`;
  for (const key of ["source", "source_file"]) if (value[key] !== undefined && value[key] !== null && typeof value[key] !== "string") return `"${key}" must be a string or null, found ${shown(value[key])}`;
  return null;
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
