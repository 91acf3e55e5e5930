// The one message protocol between the extension host and its webviews. Both sides import these types;
// each side checks what it receives with the validators below, because a webview is another process
// and its messages are data, not trusted calls.

import type { EvalResult, RunInfo, StepMetrics } from "../runs/records";
import type { Rescored } from "../runs/rescore";
import type { ToolCall } from "../reward/parse";
import type { PlaygroundResult } from "../runs/playground";
import type { Query, SampleDetail, SampleRow } from "../runs/samples";

// The explorer's sample types live with the sample store in runs/; the webviews use them from here too.
export type { Query, SampleDetail, SampleRow };

/** A problem the user should see: a bad line in a file, an engine error. */
export interface Notice {
  level: "error" | "warning" | "info";
  message: string;
}

export type HostToDashboard =
  | { type: "starting"; runDir: string }
  | { type: "run"; run: RunInfo; runDir: string; live: boolean }
  | { type: "metrics"; rows: StepMetrics[]; reset: boolean }
  | { type: "evals"; rows: EvalResult[] }
  /** Monitor counts of newly evaluated steps (reset: from the first step). */
  | { type: "monitors"; steps: MonitorCounts[]; reset: boolean }
  /** Reward failures of newly read steps, by message. */
  | { type: "failures"; rows: { step: number; message: string; count: number }[]; reset: boolean }
  | { type: "notice"; notice: Notice };

/** One step's monitor results as the dashboard shows them. */
export interface MonitorCounts {
  step: number;
  samples: number;
  monitors: { id: string; title: string; count: number | null; error?: string }[];
}

export type DashboardToHost =
  | { type: "ready" }
  | { type: "openRollouts"; step?: number }
  /** The samples a monitor flagged: at one step, or over the whole run. */
  | { type: "openMonitor"; id: string; step?: number }
  /** The samples whose reward failed at a step. */
  | { type: "openFailures"; step: number }
  | { type: "editSchedule" }
  | { type: "control"; command: "pause" | "resume" | "stop" | "checkpoint" };

export type HostToExplorer =
  /** The query's result changed: its size, and what there is to filter on. Pages are asked for again. */
  | { type: "view"; title: string; runDir?: string; step?: number; generation: number; total: number; count: number; components: string[]; steps: number[]; reasons: string[]; versions: string[]; loading: boolean }
  | { type: "page"; generation: number; offset: number; rows: SampleRow[] }
  /** What each tool-call difference of a sample cost, by re-scoring it with that difference fixed. */
  | { type: "costs"; index: number; costs: { label: string; total: number | null; components: Record<string, number> }[] | null; note?: string }
  | { type: "detail"; detail: SampleDetail }
  | { type: "notice"; notice: Notice };

export type ExplorerToHost =
  | { type: "ready"; query?: Query }
  | { type: "query"; query: Query }
  | { type: "page"; offset: number; count: number }
  | { type: "detail"; index: number }
  | { type: "openDiff"; index: number }
  | { type: "addCase"; index: number }
  /** Run the reward that scored this sample under VS Code's debugger, on this sample at its step. */
  | { type: "debug"; index: number }
  /** Open the playground on this sample's prompt, at the checkpoint that wrote it or a later one. */
  | { type: "resample"; index: number }
  /** Open the schedule source where this component's value was decided. */
  | { type: "openSource"; index: number; component: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks a message from the dashboard webview; null when it is not one. */
export function parseDashboardMessage(value: unknown): DashboardToHost | null {
  if (!isObject(value)) return null;
  switch (value.type) {
    case "ready":
      return { type: "ready" };
    case "editSchedule":
      return { type: "editSchedule" };
    case "openFailures":
      return Number.isInteger(value.step) ? { type: "openFailures", step: value.step as number } : null;
    case "openMonitor":
      return typeof value.id === "string" && value.id.length < 200 && (value.step === undefined || Number.isInteger(value.step))
        ? { type: "openMonitor", id: value.id, ...(value.step === undefined ? {} : { step: value.step as number }) }
        : null;
    case "openRollouts":
      return value.step === undefined || Number.isInteger(value.step) ? { type: "openRollouts", ...(value.step === undefined ? {} : { step: value.step as number }) } : null;
    case "control":
      return ["pause", "resume", "stop", "checkpoint"].includes(value.command as string) ? { type: "control", command: value.command as "pause" } : null;
    default:
      return null;
  }
}

const QUERY_KEYS: Record<keyof Query, string> = {
  text: "string", step: "number", prompt_id: "string", parse_failure: "string", group_outcome: "string",
  reward_version: "string", exact: "boolean", reward_failure: "boolean", sort: "string", descending: "boolean",
};

/** A query from the webview with only known fields of the right types; null when it is not one. */
export function parseQuery(value: unknown): Query | null {
  if (!isObject(value)) return null;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const type = QUERY_KEYS[key as keyof Query];
    if (!type || typeof v !== type) return null;
    out[key] = v;
  }
  if (out.group_outcome !== undefined && !["all-right", "all-wrong", "mixed"].includes(out.group_outcome as string)) return null;
  return out as Query;
}

/** Checks a message from the explorer webview; null when it is not one. */
export function parseExplorerMessage(value: unknown): ExplorerToHost | null {
  if (!isObject(value)) return null;
  const index = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  switch (value.type) {
    case "ready": {
      if (value.query === undefined) return { type: "ready" };
      const query = parseQuery(value.query);
      return query ? { type: "ready", query } : { type: "ready" };
    }
    case "query": {
      const query = parseQuery(value.query);
      return query ? { type: "query", query } : null;
    }
    case "page":
      return index(value.offset) && index(value.count) && (value.count as number) <= 5000 ? { type: "page", offset: value.offset as number, count: value.count as number } : null;
    case "detail":
    case "openDiff":
    case "addCase":
    case "debug":
    case "resample":
      return index(value.index) ? { type: value.type, index: value.index as number } : null;
    case "openSource":
      return index(value.index) && typeof value.component === "string" && value.component.length < 500 ? { type: "openSource", index: value.index as number, component: value.component } : null;
    default:
      return null;
  }
}

/** A sample re-scored by the editor's unsaved schedule, beside its stored reward. */
export type PreviewRow = Rescored;

export type HostToSchedule =
  | { type: "init"; text: string; fileName: string; declarations: { path: string; content: string }[] }
  | { type: "text"; text: string }
  | { type: "preview"; runDir: string; step: number; rows: PreviewRow[] }
  | { type: "notice"; notice: Notice };

export type ScheduleToHost = { type: "ready" } | { type: "edit"; text: string } | { type: "preview"; text: string };

/** Checks a message from the schedule editor webview; null when it is not one. */
export function parseScheduleMessage(value: unknown): ScheduleToHost | null {
  if (!isObject(value)) return null;
  if (value.type === "ready") return { type: "ready" };
  if ((value.type === "edit" || value.type === "preview") && typeof value.text === "string" && value.text.length < 5_000_000) return { type: value.type, text: value.text };
  return null;
}

/** The playground's settings for one "Sample" (docs/playground.md). Tools and ground truth are the JSON the user typed. */
export interface PlaygroundAsk {
  checkpoint: string;
  /** A second checkpoint sampled with the same prompt and seed, side by side. */
  compare?: string;
  template: string;
  tools: string;
  /** The conversation before the request (a resampled prompt's history); usually empty. */
  history: { role: string; content: string }[];
  request: string;
  groundTruth: string;
  n: number;
  temperature: number;
  topP: number;
  seed: number;
  maxNewTokens: number;
}

export interface PlaygroundPromptFields {
  template?: string;
  tools: string;
  history: { role: string; content: string }[];
  request: string;
  groundTruth: string;
}

export type HostToPlayground =
  | {
      type: "setup";
      runDir: string;
      runs: { runDir: string; label: string }[];
      checkpoints: { id: string; label: string }[];
      checkpoint: string;
      compare?: string;
      templates: string[];
      template: string;
      prompts: { id: string; label: string }[];
      reward: string;
      /** The prompt to start from (a dataset sample, or the sample "Resample this prompt" came from). */
      prompt?: PlaygroundPromptFields;
      origin?: string;
    }
  | { type: "prompt"; prompt: PlaygroundPromptFields }
  | { type: "status"; text: string }
  | { type: "results"; column: 0 | 1; result: PlaygroundResult; truth: ToolCall[] | null; reward: string }
  | { type: "done"; seconds: number }
  | { type: "notice"; notice: Notice };

export type PlaygroundToHost = { type: "ready" } | { type: "pickRun"; runDir: string } | { type: "pickPrompt"; id: string } | { type: "sample"; ask: PlaygroundAsk };

function isMessages(value: unknown): value is { role: string; content: string }[] {
  const roles = ["system", "user", "assistant", "tool"];
  return Array.isArray(value) && value.length < 200 && value.every((m) => isObject(m) && roles.includes(m.role as string) && typeof m.content === "string");
}

/** Checks a message from the playground webview; null when it is not one. */
export function parsePlaygroundMessage(value: unknown): PlaygroundToHost | null {
  if (!isObject(value)) return null;
  const short = (v: unknown, max = 1000) => typeof v === "string" && v.length <= max;
  switch (value.type) {
    case "ready":
      return { type: "ready" };
    case "pickRun":
      return short(value.runDir, 4096) ? { type: "pickRun", runDir: value.runDir as string } : null;
    case "pickPrompt":
      return short(value.id) ? { type: "pickPrompt", id: value.id as string } : null;
    case "sample": {
      const a = value.ask;
      if (!isObject(a)) return null;
      const num = (v: unknown, lo: number, hi: number) => typeof v === "number" && Number.isFinite(v) && v >= lo && v <= hi;
      const ok =
        short(a.checkpoint) && (a.compare === undefined || short(a.compare)) && short(a.template) && short(a.tools, 1_000_000) && isMessages(a.history) &&
        short(a.request, 100_000) && short(a.groundTruth, 1_000_000) && Number.isInteger(a.n) && num(a.n, 1, 64) && num(a.temperature, 0, 5) && num(a.topP, 0, 1) &&
        Number.isInteger(a.seed) && Number.isInteger(a.maxNewTokens) && num(a.maxNewTokens, 1, 4096);
      return ok ? { type: "sample", ask: a as unknown as PlaygroundAsk } : null;
    }
    default:
      return null;
  }
}
