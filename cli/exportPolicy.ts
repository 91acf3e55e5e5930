// rollout-studio export: a run's checkpoint (or a base) as ONNX for the playground. The work is the engine's
// (engine/rollout_engine/export.py): this passes the arguments on.

import { spawn } from "node:child_process";
import path from "node:path";
import { pythonModuleCommand } from "../runs/engine";

export function exportPolicy(argv: string[]): Promise<number> {
  const { command, args, env } = pythonModuleCommand(path.join(__dirname, ".."), "rollout_engine.export", argv);
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: "inherit" });
    child.on("error", (err) => {
      process.stderr.write(`rollout-studio export: could not start the engine's Python: ${err.message}\n`);
      resolve(2);
    });
    child.on("exit", (code) => resolve(code ?? 1));
  });
}
