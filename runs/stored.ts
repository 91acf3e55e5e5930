// Stored rollouts as the reward sees them again, and reward versions as schedules to run again: what
// replay (runs/replay.ts), the contract check and push/rollback share. No VS Code dependency.

import fs from "node:fs";
import path from "node:path";

import type { TrainingTime } from "../reward/api";
import type { ScheduleSource } from "../reward/host/runner";
import type { RunInfo, TrajectoryRecord } from "./records";
import { importsNeighbours } from "./rescore";
import { readMetrics, readRewardVersion, readRollouts, stepFiles, RunDirError } from "./runDir";

/** The training time of each stored step: from metrics.jsonl, or (older runs) from the step and max_steps. */
export function stepTimes(runDir: string, info: RunInfo): (step: number) => TrainingTime {
  const times = new Map<number, TrainingTime>();
  for (const row of readMetrics(runDir).rows) if (row.time) times.set(row.step, { step: row.time.step, progress: row.time.progress, epoch: row.time.epoch });
  const maxSteps = info.config.grpo?.max_steps ?? 0;
  return (step) => times.get(step) ?? { step, progress: maxSteps ? (step - 1) / maxSteps : 0, epoch: 0 };
}

/** Parses "3", "2-5", "2,4,7-9" or "last:4" against the run's stored steps. Throws with what is wrong. */
export function selectSteps(spec: string | undefined, stored: number[]): number[] {
  if (!spec || spec === "all") return stored;
  const last = /^last:(\d+)$/.exec(spec.trim());
  if (last) return stored.slice(-Number(last[1]));
  const wanted = new Set<number>();
  for (const part of spec.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new RunDirError(`steps "${spec}": use a step (3), a range (2-5), a list (2,4,7-9), "last:N" or "all"`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let s = from; s <= to; s++) wanted.add(s);
  }
  const out = stored.filter((s) => wanted.has(s));
  if (out.length === 0) throw new RunDirError(`steps "${spec}": none of them is stored in this run (stored: ${stored[0] ?? "none"}–${stored[stored.length - 1] ?? "none"})`);
  return out;
}

export interface StoredStep {
  step: number;
  time: TrainingTime;
  records: TrajectoryRecord[];
}

/** The records of the chosen steps, each step with its training time. */
export function readStoredSteps(runDir: string, info: RunInfo, steps: number[]): StoredStep[] {
  const files = new Map(stepFiles(runDir).map((f) => [f.step, f.file]));
  const timeOf = stepTimes(runDir, info);
  return steps.map((step) => {
    return { step, time: timeOf(step), records: readRollouts(files.get(step) as string).rows };
  });
}

/** A reward to run again: what scored the run, a stored version, a schedule file or a preset. */
export type VersionSpec = { kind: "stored" } | { kind: "version"; version: string } | { kind: "schedule"; path: string } | { kind: "preset"; name: string; options?: Record<string, unknown> };

/** Reads "stored", "version:HASH", "schedule:FILE", "preset:NAME" (or a bare .ts path). */
export function parseVersionSpec(text: string): VersionSpec {
  if (text === "stored") return { kind: "stored" };
  const m = /^(version|schedule|preset):(.+)$/.exec(text);
  if (m) {
    const value = m[2] as string;
    if (m[1] === "version") return { kind: "version", version: value };
    if (m[1] === "schedule") return { kind: "schedule", path: path.resolve(value) };
    return { kind: "preset", name: value };
  }
  if (/\.(ts|js|mts|cts)$/.test(text)) return { kind: "schedule", path: path.resolve(text) };
  throw new RunDirError(`"${text}" is not a reward version: use stored, version:HASH (a version the run recorded), schedule:FILE or preset:NAME`);
}

/**
 * A schedule source for a version the run recorded. A schedule version's source is written out from
 * rewards/<version>.json: into the run's rewards/sources/ folder, or beside its original file (hidden)
 * when it imports neighbouring files, so those resolve. A preset run's versions are the preset.
 */
export function storedVersionSource(runDir: string, info: RunInfo, version: string): ScheduleSource {
  const stored = readRewardVersion(runDir, version);
  if (!stored) throw new RunDirError(`version ${version} is not recorded in ${runDir} (rewards/${version}.json is missing); versions: ${info.reward_versions.join(", ") || "none"}`);
  if (typeof stored.source === "string") {
    const relativeImports = importsNeighbours(stored.source);
    const original = stored.source_file ?? path.join(runDir, "schedule.ts");
    const file = relativeImports ? path.join(path.dirname(original), `.${path.basename(original, path.extname(original))}.${version}.ts`) : path.join(runDir, "rewards", "sources", `${version}.ts`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== stored.source) fs.writeFileSync(file, stored.source);
    return { kind: "file", path: file };
  }
  const reward = info.config.reward as { preset?: string | null; options?: Record<string, unknown> } | undefined;
  if (reward?.preset) return { kind: "preset", name: reward.preset, options: reward.options ?? {} };
  throw new RunDirError(`version ${version} has no stored source (${stored.source_file ?? "its file"} could not be read when it was recorded), so it cannot be run again`);
}

/** The schedule source for a spec; null for "stored" (use the stored scores). */
export function sourceFor(runDir: string, info: RunInfo, spec: VersionSpec): ScheduleSource | null {
  switch (spec.kind) {
    case "stored":
      return null;
    case "version":
      return storedVersionSource(runDir, info, spec.version);
    case "schedule":
      if (!fs.existsSync(spec.path)) throw new RunDirError(`schedule ${spec.path} does not exist`);
      return { kind: "file", path: spec.path };
    case "preset":
      return { kind: "preset", name: spec.name, options: spec.options ?? {} };
  }
}
