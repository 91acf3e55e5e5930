// The engine's control socket (docs/run-directory.md, "Run control"): one JSON command per line, one JSON
// answer per line, as the contract says (contract/control.schema.json). The socket is not in the run directory (an AF_UNIX path holds at most 107 bytes, and a
// run directory's path can be longer): the engine keeps it in a private per-user folder and writes where it
// is into the run directory's control.json ({"socket", "pid"}) while it runs.

import fs from "node:fs";
import net from "node:net";
import path from "node:path";

import type {
  CommandDone,
  ControlAnswer,
  ControlCommand,
  ControlFile,
  Refusal,
  RewardAnswer,
  RewardPresetCommand,
  RewardScheduleCommand,
  RunCommand,
  SampleAnswer,
  SampleCommand,
} from "../contract/types";
import type { ScheduleSource } from "../reward/host/runner";
import { processAlive } from "./runDir";

export type { ControlAnswer, ControlCommand, RunCommand, SampleCommand };

/** The answer a command gets: its own kind, or a refusal. */
export type AnswerTo<C extends ControlCommand> = Refusal | (C extends SampleCommand ? SampleAnswer : C extends RewardScheduleCommand | RewardPresetCommand ? RewardAnswer : CommandDone);

/** The command that switches a live run to a schedule file or a preset (push, rollback); answered once applied. */
export function rewardCommand(source: ScheduleSource): RewardScheduleCommand | RewardPresetCommand {
  return source.kind === "file" ? { command: "reward", schedule: source.path } : { command: "reward", preset: source.name, options: source.options ?? {} };
}

/** The file in the run directory that says where a running engine's control socket is. */
export const CONTROL_FILE = "control.json";

/**
 * Why a command could not be sent. `noEngine`: no engine is running (listening) for this run directory; the
 * message names it. Otherwise the connection failed or timed out while one was.
 */
export class ControlError extends Error {
  constructor(
    message: string,
    readonly runDir: string,
    readonly noEngine: boolean,
  ) {
    super(message);
  }
}

/** The control socket a running engine announced in `runDir`/control.json, or why there is none. */
export function controlSocket(runDir: string): { socket: string; pid: number } | { problem: string } {
  const file = path.join(runDir, CONTROL_FILE);
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { problem: `it has no ${CONTROL_FILE}, which a running engine writes` };
    return { problem: `its ${CONTROL_FILE} cannot be read (${(e as Error).message})` };
  }
  const { socket, pid } = (value ?? {}) as Partial<Record<keyof ControlFile, unknown>>;
  if (typeof socket !== "string" || !path.isAbsolute(socket)) return { problem: `its ${CONTROL_FILE} names no socket` };
  if (typeof pid === "number" && !processAlive(pid)) return { problem: `the engine that wrote its ${CONTROL_FILE} (pid ${pid}) has exited` };
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socket);
  } catch {
    return { problem: `its control socket ${socket} is gone` };
  }
  if (!stat.isSocket()) return { problem: `${socket} is not a socket` };
  // Only a socket of this user's own engine: a command (a pushed schedule's path) goes to no one else.
  if (typeof process.getuid === "function" && stat.uid !== process.getuid()) return { problem: `its control socket ${socket} belongs to another user (uid ${stat.uid})` };
  return { socket, pid: typeof pid === "number" ? pid : 0 };
}

function noEngine(runDir: string, why: string): ControlError {
  return new ControlError(`no engine is running ${runDir}: ${why}. Start one with \`rollout-studio train --config RUN.toml --run-dir ${runDir} --resume\`, or Start RL Run in VS Code`, runDir, true);
}

/** Sends one command to the engine writing `runDir` and resolves with its answer; rejects with a ControlError. */
export function sendControl<C extends ControlCommand>(runDir: string, command: C, timeoutMs = 10_000): Promise<AnswerTo<C>> {
  runDir = path.resolve(runDir);
  const found = controlSocket(runDir);
  if ("problem" in found) return Promise.reject(noEngine(runDir, found.problem));
  const socket = found.socket;
  return new Promise((resolve, reject) => {
    const client = net.createConnection(socket);
    let buffer = "";
    const timer = setTimeout(() => {
      client.destroy();
      reject(new ControlError(`the engine did not answer "${command.command}" within ${timeoutMs / 1000} s (it answers between steps; a long step delays it)`, runDir, false));
    }, timeoutMs);
    client.on("connect", () => client.write(JSON.stringify(command) + "\n"));
    client.on("data", (data) => {
      buffer += data.toString("utf8");
      const end = buffer.indexOf("\n");
      if (end < 0) return;
      clearTimeout(timer);
      client.end();
      try {
        resolve(JSON.parse(buffer.slice(0, end)) as AnswerTo<C>);
      } catch {
        reject(new ControlError(`the engine answered with something that is not JSON: ${buffer.slice(0, end)}`, runDir, false));
      }
    });
    client.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === "ENOENT" || e.code === "ECONNREFUSED" ? noEngine(runDir, `its control socket ${socket} is not listening`) : new ControlError(`the control socket ${socket}: ${e.message}`, runDir, false));
    });
  });
}
