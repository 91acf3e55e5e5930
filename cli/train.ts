// rollout-studio train: runs the training engine on a run configuration.

import path from "node:path";
import { parseArgs } from "node:util";
import { stringifyLine } from "../reward/wire";
import { startEngine } from "../runs/engine";
import { ProgressPrinter } from "../runs/progress";
import { UsageError } from "./flags";

/**
 * Runs the training engine (Python) with the interpreter chosen at set-up. `--format text` prints a
 * line per step and a summary; `--format json` passes the engine's JSON Lines events through (the
 * default when stdout is not a terminal, for programs that read them).
 */
export async function train(argv: string[], defaults: { config?: string; format?: "text" | "json" } = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: "string" }, "run-dir": { type: "string" }, resume: { type: "boolean", default: false }, format: { type: "string" } },
    strict: true,
  });
  const config = values.config ?? defaults.config;
  if (!config) throw new UsageError("train needs --config path/to/run.toml");
  const format = values.format ?? defaults.format ?? (process.stdout.isTTY ? "text" : "json");
  if (format !== "text" && format !== "json") throw new UsageError(`--format must be text or json, got "${format}"`);
  if (values.resume && !values["run-dir"]) throw new UsageError("--resume needs --run-dir, the run to continue");
  const printer = new ProgressPrinter((line) => process.stdout.write(line + "\n"));
  const { child, exited } = startEngine(
    { root: path.join(__dirname, ".."), config, ...(values["run-dir"] ? { runDir: values["run-dir"] } : {}), resume: values.resume ?? false },
    (event) => (format === "json" ? process.stdout.write(stringifyLine(event) + "\n") : printer.handle(event)),
    (line, stream) => (stream === "stderr" ? process.stderr : process.stdout).write(line + "\n"),
  );
  // Ctrl-C and SIGTERM reach the engine, which finishes its step, checkpoints and exits.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  return exited;
}
