// Re-scoring stored rollouts with another version of a reward (an unsaved schedule buffer, a preset):
// the stored records become the scoring CLI's input, its output is set beside the stored rewards. No
// VS Code dependency; the CLI runs in its own process, so a reward that hangs or crashes cannot take the
// caller with it.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { storedSample } from "../reward/samples";
import type { ToolCall } from "../reward/parse";
import type { TrajectoryRecord } from "./records";

/** Whether a schedule's source imports files beside it (then a copy of it must be written beside it too). */
export function importsNeighbours(source: string): boolean {
  return /from\s+["']\.{1,2}\//.test(source);
}

export interface Rescored {
  id: string;
  step: number;
  before: number | null;
  after: number | null;
  componentsBefore: Record<string, number>;
  componentsAfter: Record<string, number>;
  failure?: string;
  version: string;
}

export interface RescoreOptions {
  /** dist/cli.cjs of Rollout Studio. */
  cli: string;
  /** The Node that runs it (the extension passes VS Code's, with ELECTRON_RUN_AS_NODE). */
  node?: string;
  env?: NodeJS.ProcessEnv;
  template?: string;
  timeoutMs?: number;
}

/** The scoring CLI's flags for a preset with a run's [reward] options (`--option key=value` each). */
export function presetArgs(preset: string, options: Record<string, unknown> = {}): string[] {
  return ["--preset", preset, ...Object.entries(options).flatMap(([k, v]) => ["--option", `${k}=${String(v)}`])];
}

/** Scores `records` with a schedule's source text (written next to `scheduleFile`, so its relative imports resolve). */
export async function rescoreWithSource(records: readonly TrajectoryRecord[], source: string, scheduleFile: string, options: RescoreOptions): Promise<Rescored[]> {
  return withScheduleSource(source, scheduleFile, (file) => rescore(records, ["--schedule", file], options));
}

/** Runs `use` with the source written to a schedule file that resolves as `scheduleFile` would, then removes it. */
export async function withScheduleSource<T>(source: string, scheduleFile: string, use: (file: string) => Promise<T>): Promise<T> {
  // Beside the schedule only when it imports its neighbours; otherwise out of the user's folder.
  const relativeImports = importsNeighbours(source);
  const folder = relativeImports ? path.dirname(scheduleFile) : fs.mkdtempSync(path.join(os.tmpdir(), "rs-preview-"));
  const preview = path.join(folder, `.${path.basename(scheduleFile, ".ts")}.preview-${process.pid}-${Date.now()}.ts`);
  fs.writeFileSync(preview, source);
  try {
    return await use(preview);
  } finally {
    fs.rmSync(relativeImports ? preview : folder, { recursive: true, force: true });
  }
}

export async function rescore(records: readonly TrajectoryRecord[], rewardArgs: string[], options: RescoreOptions): Promise<Rescored[]> {
  const lines = await scoreWithCli(
    records.map((r, i) => ({ ...storedSample(r, options.template, String(i)), step: r.step })),
    rewardArgs,
    options,
  );
  return lines.map((line) => {
    const r = records[Number(line.id)] as TrajectoryRecord;
    const componentsBefore: Record<string, number> = {};
    for (const [name, c] of Object.entries(r.components ?? {})) componentsBefore[name] = c.value;
    return {
      id: `${r.step}/${r.group}/${r.sample}`,
      step: r.step,
      before: r.reward,
      after: line.reward,
      componentsBefore,
      componentsAfter: line.components ?? {},
      ...(line.failure ? { failure: line.failure.message } : {}),
      version: line.version,
    };
  });
}

/** One output line of `rollout-studio score` (docs/cli.md); `why`, `calls` and the parse failure's detail with --explain. */
export interface ScoreLine {
  id: string;
  reward: number | null;
  components: Record<string, number>;
  failure?: { kind: string; message: string };
  parse_failure?: string;
  parse_failure_detail?: { reason: string; message: string };
  why?: Record<string, string>;
  calls?: ToolCall[] | null;
  version: string;
}

/** Scores wire samples (one JSON object each) with `rollout-studio score REWARD_ARGS` in its own process. */
export async function scoreWithCli(samples: readonly object[], rewardArgs: string[], options: RescoreOptions): Promise<ScoreLine[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-rescore-"));
  const inputFile = path.join(dir, "in.jsonl");
  fs.writeFileSync(inputFile, samples.map((s) => JSON.stringify(s)).join("\n") + "\n");
  try {
    const out = await run(options.node ?? process.execPath, [options.cli, "score", ...rewardArgs], inputFile, options);
    return out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as ScoreLine);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function run(node: string, args: string[], inputFile: string, options: RescoreOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { env: { ...(options.env ?? process.env), ELECTRON_RUN_AS_NODE: "1" }, stdio: [fs.openSync(inputFile, "r"), "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      // 1: some lines failed (they carry their failure); 2: the reward could not be used at all.
      if (code === 0 || (code === 1 && stdout.trim())) resolve(stdout);
      else reject(new Error(stderr.trim().split("\n").slice(-3).join("\n") || `the scoring CLI exited with ${code}`));
    });
  });
}
