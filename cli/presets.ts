// rollout-studio presets: each preset with its options.

import { PRESETS } from "../reward/presets";

export function presets(): number {
  for (const [name, info] of Object.entries(PRESETS)) {
    process.stdout.write(`${name} — ${info.summary}\n`);
    for (const [key, spec] of Object.entries(info.options)) {
      const choices = spec.choices ? ` (${spec.choices.join(" | ")})` : "";
      process.stdout.write(`  --option ${key}=${String(spec.default)}${choices}\n      ${spec.doc}\n`);
    }
  }
  return 0;
}
