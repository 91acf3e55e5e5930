// Starting the training engine (Python) and reading its stdout: one JSON event per line, as the contract
// says (contract/engine-events.schema.json, docs/run-directory.md). Used by the CLI and by the extension's
// run manager.

import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";

import type { EngineEvent } from "../contract/types";

/** One line of the engine's stdout. `event` names it; the other fields depend on the event. */
export type { EngineEvent };

export interface EngineOptions {
  /** The project root: holds engine/ and scripts/python.sh (the Python chosen at set-up). */
  root: string;
  config: string;
  runDir?: string;
  resume?: boolean;
  env?: NodeJS.ProcessEnv;
  /** The Python to run; default: the one set-up chose (scripts/python.sh). */
  python?: string;
}

/** Reads a stdout line: an event, or null for a line that is not one (the engine's plain prints). */
export function parseEvent(line: string): EngineEvent | null {
  if (!line.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(line);
    // An event this version does not know (from a newer engine) is passed on: readers skip what they do not know.
    if (typeof value === "object" && value !== null && typeof (value as { event?: unknown }).event === "string") return value as EngineEvent;
  } catch {
    // not JSON: a plain line
  }
  return null;
}

/** The command that runs the engine: python -m rollout_engine.train with engine/ on PYTHONPATH. */
export function engineCommand(options: EngineOptions): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const args = ["--config", path.resolve(options.config)];
  if (options.runDir) args.push("--run-dir", path.resolve(options.runDir));
  if (options.resume) args.push("--resume");
  return pythonModuleCommand(options.root, "rollout_engine.train", args, options);
}

/** python -m MODULE ARGS with the engine's package on PYTHONPATH, in the Python set-up chose (or `python`). */
export function pythonModuleCommand(
  root: string,
  module: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; python?: string } = {},
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const base = options.env ?? process.env;
  const pythonPath = [path.join(root, "engine"), base.PYTHONPATH].filter(Boolean).join(path.delimiter);
  const env = { ...base, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: "1" };
  const full = ["-m", module, ...args];
  if (options.python) return { command: options.python, args: full, env };
  return { command: "bash", args: [path.join(root, "scripts", "python.sh"), ...full], env };
}

/**
 * Starts the engine in its own process group with stdout and stderr going to `logFile`, so that it
 * outlives the process that started it (the extension host, through a window reload). Returns its pid.
 */
export function launchDetached(options: EngineOptions, logFile: string): number {
  const { command, args, env } = engineCommand(options);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, "a");
  try {
    const child = spawn(command, args, { env, stdio: ["ignore", log, log], detached: true });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    return child.pid;
  } finally {
    fs.closeSync(log);
  }
}

/**
 * Starts the engine. `onEvent` gets each event, `onLine` every other stdout line and all of stderr.
 * The promise settles with the exit code when the engine ends (1 when a signal ended it).
 */
export function startEngine(options: EngineOptions, onEvent: (e: EngineEvent) => void, onLine: (line: string, stream: "stdout" | "stderr") => void): { child: ChildProcess; exited: Promise<number> } {
  const { command, args, env } = engineCommand(options);
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const stdout = createInterface({ input: child.stdout! });
  stdout.on("line", (line) => {
    const event = parseEvent(line);
    if (event) onEvent(event);
    else onLine(line, "stdout");
  });
  createInterface({ input: child.stderr! }).on("line", (line) => onLine(line, "stderr"));
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    // Wait for stdout to drain so the last events are delivered before the exit is reported.
    child.on("close", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  return { child, exited };
}
