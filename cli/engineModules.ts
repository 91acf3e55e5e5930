// rollout-studio import / follow-verl / export: the work is the engine's Python
// (engine/rollout_engine/integrations/foreign.py and verl.py; export.py); these pass the arguments on.

import { spawn } from "node:child_process";
import path from "node:path";
import { pythonModuleCommand } from "../runs/engine";

/** Runs `python -m MODULE ARGS` with the terminal's stdio and returns its exit code; Ctrl-C and SIGTERM reach it (a follower then closes its run). */
function runModule(name: string, module: string, argv: string[]): Promise<number> {
  const { command, args, env } = pythonModuleCommand(path.join(__dirname, ".."), module, argv);
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: "inherit" });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("error", (err) => {
      process.stderr.write(`rollout-studio ${name}: could not start the engine's Python: ${err.message}\n`);
      resolve(2);
    });
    child.on("exit", (code) => resolve(code ?? 1));
  });
}

/** Another trainer's run as a Rollout Studio run directory (docs/importing.md, docs/verl.md). */
export function importRun(command: "import" | "follow-verl", argv: string[]): Promise<number> {
  return runModule(command, "rollout_engine.integrations.foreign", [command, ...argv]);
}

/** A run's checkpoint (or a base) as ONNX for the playground (docs/playground.md). */
export function exportPolicy(argv: string[]): Promise<number> {
  return runModule("export", "rollout_engine.export", argv);
}
