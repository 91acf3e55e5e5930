// The engine's control socket (control.sock in the run directory; docs/run-directory.md): one JSON
// command per line, one JSON answer per line.

import net from "node:net";
import path from "node:path";

import type { ScheduleSource } from "../reward/host/runner";

export type ControlCommand =
  | { command: "pause" | "resume" | "stop" | "checkpoint" }
  | { command: "sample"; prompt: string; max_new_tokens?: number; temperature?: number }
  // Score with this schedule file or preset from the next step (push, rollback); answered once applied.
  | { command: "reward"; schedule: string }
  | { command: "reward"; preset: string; options: Record<string, unknown> };

/** The command that switches a live run to a schedule file or a preset (push, rollback). */
export function rewardCommand(source: ScheduleSource): ControlCommand {
  return source.kind === "file" ? { command: "reward", schedule: source.path } : { command: "reward", preset: source.name, options: source.options ?? {} };
}

export interface ControlAnswer {
  ok: boolean;
  error?: string;
  [field: string]: unknown;
}

/** Sends one command to the engine writing `runDir` and resolves with its answer. */
export function sendControl(runDir: string, command: ControlCommand, timeoutMs = 10_000): Promise<ControlAnswer> {
  const socket = path.join(runDir, "control.sock");
  return new Promise((resolve, reject) => {
    const client = net.createConnection(socket);
    let buffer = "";
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`the engine did not answer "${command.command}" within ${timeoutMs / 1000} s (it answers between steps; a long step delays it)`));
    }, timeoutMs);
    client.on("connect", () => client.write(JSON.stringify(command) + "\n"));
    client.on("data", (data) => {
      buffer += data.toString("utf8");
      const end = buffer.indexOf("\n");
      if (end < 0) return;
      clearTimeout(timer);
      client.end();
      try {
        resolve(JSON.parse(buffer.slice(0, end)) as ControlAnswer);
      } catch {
        reject(new Error(`the engine answered with something that is not JSON: ${buffer.slice(0, end)}`));
      }
    });
    client.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(e.code === "ENOENT" || e.code === "ECONNREFUSED" ? `no engine is running this run (${socket} is not open)` : e.message));
    });
  });
}
