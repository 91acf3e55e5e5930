// Reading a run directory (docs/run-directory.md) while an engine may still be writing it. No VS Code
// dependency: the extension, the CLI and the tests use it alike.
//
// Lines are read up to the last newline: a line without one is still being written (live run) or was cut
// by a crash (finished run). Lines that are not valid records are reported with file and line number,
// and the readable rows around them are kept.

import fs from "node:fs";
import path from "node:path";

import { SCHEMA_VERSION } from "../contract/types";
import { metricsProblem, recordProblem, rewardVersionProblem, runInfoProblem, type EvalResult, type RewardVersion, type RunInfo, type StepMetrics, type TrajectoryRecord } from "./records.js";

export class RunDirError extends Error {}

export interface BadLine {
  file: string;
  /** 1-based line number in the file. */
  line: number;
  error: string;
}

export interface JsonlChunk<T> {
  rows: T[];
  bad: BadLine[];
  /** Byte offset just after the last complete line read: where the next read starts. */
  offset: number;
  /** Lines read so far, for numbering. */
  lines: number;
  /** A last line without its newline (being written, or cut off), left unread. */
  partial: boolean;
}

/**
 * Reads the complete lines of a JSON Lines file from a byte offset. `check` returns what is wrong with a
 * parsed value, or null. A missing file reads as empty.
 */
export function readJsonl<T>(file: string, check: (value: unknown) => string | null, from = 0, linesBefore = 0): JsonlChunk<T> {
  let data: Buffer;
  try {
    const fd = fs.openSync(file, "r");
    try {
      const size = fs.fstatSync(fd).size;
      data = Buffer.alloc(Math.max(0, size - from));
      if (data.length) fs.readSync(fd, data, 0, data.length, from);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { rows: [], bad: [], offset: from, lines: linesBefore, partial: false };
    throw e;
  }
  const end = data.lastIndexOf(10); // the last "\n"
  const complete = end < 0 ? "" : data.subarray(0, end + 1).toString("utf8");
  const rows: T[] = [];
  const bad: BadLine[] = [];
  let line = linesBefore;
  for (const text of complete.split("\n").slice(0, -1)) {
    line++;
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      bad.push({ file, line, error: `not valid JSON (${(e as Error).message})` });
      continue;
    }
    const problem = check(value);
    if (problem) bad.push({ file, line, error: problem });
    else rows.push(value as T);
  }
  return { rows, bad, offset: from + (end + 1), lines: line, partial: end + 1 < data.length };
}

/** Follows a growing JSON Lines file: each poll returns the lines added since the last. */
export class JsonlTail<T> {
  private offset = 0;
  private lines = 0;

  constructor(readonly file: string, private readonly check: (value: unknown) => string | null) {}

  poll(): { rows: T[]; bad: BadLine[] } {
    let size: number;
    try {
      size = fs.statSync(this.file).size;
    } catch {
      return { rows: [], bad: [] };
    }
    if (size < this.offset) {
      // Replaced or truncated (a resume drops steps written after its checkpoint): read it again.
      this.offset = 0;
      this.lines = 0;
    }
    if (size === this.offset) return { rows: [], bad: [] };
    const chunk = readJsonl<T>(this.file, this.check, this.offset, this.lines);
    this.offset = chunk.offset;
    this.lines = chunk.lines;
    return { rows: chunk.rows, bad: chunk.bad };
  }
}

export function readRunInfo(runDir: string): RunInfo {
  const file = path.join(runDir, "run.json");
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      if (!fs.existsSync(runDir)) throw new RunDirError(`${runDir} does not exist: pick a run directory (a folder with run.json), e.g. under .rollout-studio/runs`);
      throw new RunDirError(`${runDir} is not a run directory: it has no run.json. A run directory is what \`rollout-studio train\` writes (docs/run-directory.md)`);
    }
    throw e;
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (e) {
    throw new RunDirError(`${file} is not valid JSON (${(e as Error).message}); the engine replaces it atomically, so another program changed it`);
  }
  const problem = runInfoProblem(info);
  if (problem) throw new RunDirError(`${file}: ${problem}. run.json is written by the engine (docs/run-directory.md); restore it or open another run`);
  const run = info as RunInfo;
  // A run without schema_version is from before it was recorded: version 1.
  if ((run.schema_version ?? 1) > SCHEMA_VERSION) {
    throw new RunDirError(`${runDir} was written by a newer Rollout Studio (run directory schema version ${run.schema_version}; this one reads up to ${SCHEMA_VERSION}): update Rollout Studio to open it`);
  }
  run.reward_versions ??= [];
  run.step ??= 0;
  run.id ??= path.basename(runDir);
  return run;
}

export function readMetrics(runDir: string): JsonlChunk<StepMetrics> {
  return readJsonl<StepMetrics>(path.join(runDir, "metrics.jsonl"), metricsProblem);
}

export function readEvals(runDir: string): EvalResult[] {
  return readJsonl<EvalResult>(path.join(runDir, "eval.jsonl"), (v) => (typeof (v as EvalResult)?.split === "string" ? null : `"split" must be a string`)).rows;
}

/** A stored reward version; null when the run has no record of it. A record that does not read is an error saying why. */
export function readRewardVersion(runDir: string, version: string): RewardVersion | null {
  const file = path.join(runDir, "rewards", `${version}.json`);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new RunDirError(`${file} cannot be read: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RunDirError(`${file} is corrupt: it is not valid JSON (${(e as Error).message}). The version it records cannot be run again`);
  }
  const problem = rewardVersionProblem(value);
  if (problem) throw new RunDirError(`${file} is corrupt: ${problem}`);
  return value as RewardVersion;
}

/** The step files of a run, in step order. */
export function stepFiles(runDir: string): { step: number; file: string }[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(runDir, "rollouts"));
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, match: /^step-(\d+)\.jsonl$/.exec(name) }))
    .filter((e) => e.match)
    .map((e) => ({ step: Number(e.match![1]), file: path.join(runDir, "rollouts", e.name) }))
    .sort((a, b) => a.step - b.step);
}

export function readRollouts(file: string): JsonlChunk<TrajectoryRecord> {
  return readJsonl<TrajectoryRecord>(file, recordProblem);
}

/** The run directories under a folder (each holding run.json), newest first by name. */
export function listRuns(runsFolder: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(runsFolder);
  } catch {
    return [];
  }
  return names
    .filter((name) => fs.existsSync(path.join(runsFolder, name, "run.json")))
    .sort()
    .reverse()
    .map((name) => path.join(runsFolder, name));
}

/** The pid of the engine writing the run, if one is alive (it holds .lock and wrote its pid there). */
export function liveEnginePid(runDir: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(runDir, ".lock"), "utf8").trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return processAlive(pid) ? pid : null;
}

/** Whether a process with this pid exists (one of another user's counts: signalling it is only refused). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
