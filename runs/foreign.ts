// Folders written by other trainers that `rollout-studio import` turns into runs (docs/importing.md): the
// same detection as the engine's (engine/rollout_engine/integrations/foreign.py, detect_format).

import fs from "node:fs";
import path from "node:path";

export type ForeignKind = "trl" | "verl";

/** "trl" for a TRL output folder (completions_*.parquet in it or in completions/), "verl" for a folder of verl's <step>.jsonl dumps, else null. */
export function foreignRunKind(dir: string): ForeignKind | null {
  const names = (folder: string): string[] => {
    try {
      return fs.readdirSync(folder);
    } catch {
      return [];
    }
  };
  const parquet = (name: string) => /^completions_\d+\.parquet$/.test(name);
  if (names(dir).some(parquet) || names(path.join(dir, "completions")).some(parquet)) return "trl";
  if (names(dir).some((name) => /^\d+\.jsonl$/.test(name))) return "verl";
  return null;
}
