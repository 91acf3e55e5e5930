// Rollout Studio's command line, run from the extension: on VS Code's own runtime, in a process of its
// own, so reward code (schedules, monitors) never runs in the extension host.

import { execFile } from "node:child_process";
import path from "node:path";

export function cliPath(extensionPath: string): string {
  return path.join(extensionPath, "dist", "cli.cjs");
}

/** VS Code's executable runs as plain Node with this set. */
export function cliEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ELECTRON_RUN_AS_NODE: "1" };
}

export interface CliResult {
  stdout: string;
  stderr: string;
  /** Set when the process failed to start, exited non-zero, timed out or was aborted. */
  error: Error | null;
}

/** Runs `rollout-studio ARGS` to the end and gives its output; never rejects. */
export function runCli(extensionPath: string, args: string[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath(extensionPath), ...args], { env: cliEnv(), maxBuffer: 64 << 20, timeout: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, error }),
    );
  });
}
