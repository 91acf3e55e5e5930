// rollout-studio import / follow-verl: another trainer's run as a Rollout Studio run directory. The work is
// the engine's (engine/rollout_engine/integrations/foreign.py, verl.py): this passes the arguments on.

import { spawn } from "node:child_process";
import path from "node:path";
import { pythonModuleCommand } from "../runs/engine";

/** Runs `python -m rollout_engine.integrations.foreign COMMAND ARGS` and returns its exit code. */
export function importRun(command: "import" | "follow-verl", argv: string[]): Promise<number> {
  const root = path.join(__dirname, "..");
  const { command: exe, args, env } = pythonModuleCommand(root, "rollout_engine.integrations.foreign", [command, ...argv]);
  return new Promise((resolve) => {
    const child = spawn(exe, args, { env, stdio: "inherit" });
    const forward = (signal: NodeJS.Signals) => child.kill(signal); // a follower stops on Ctrl-C and closes its run
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("error", (err) => {
      process.stderr.write(`rollout-studio ${command}: could not start the engine's Python: ${err.message}\n`);
      resolve(2);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
