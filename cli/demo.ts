// rollout-studio demo: GRPO on the demo dataset from the tiny base (demo/run.toml), on CPU.

import path from "node:path";
import { train } from "./train";

export async function demo(argv: string[]): Promise<number> {
  return train(argv, { config: path.join(__dirname, "..", "demo", "run.toml"), format: "text" });
}
