// A new reward schedule file, started from a preset, and the tsconfig.json that lets editors check it.

import fs from "node:fs";
import path from "node:path";

import * as scheduleApi from "../../reward/index";
import { PRESETS } from "../../reward/presets";

/** The name "rollout-studio" exports a preset's factory under: toolZero for tool-zero. */
function factoryName(preset: string): string {
  const make = PRESETS[preset]?.make;
  return Object.entries(scheduleApi).find(([, value]) => value === make)?.[0] ?? "toolZero";
}

export function scheduleTemplate(preset: string): string {
  const factory = factoryName(preset);
  return `// A reward schedule for Rollout Studio, starting from the ${preset} preset. Saving this file hot-reloads it
// into a running trainer; every rollout records the version (hash) that scored it.
// Components are named reward functions with weights (constants or functions of the training time).
import { defineSchedule, ${factory} } from "rollout-studio";

const base = ${factory}();

export default defineSchedule({
  ...base,
  name: "my ${preset} schedule",
  components: {
    ...base.components,
    // Add or replace components here, e.g.
    // brevity: { range: [0, 0.1], weight: 1, score: ({ sample }) => ({ value: sample.completion.length < 400 ? 0.1 : 0, why: "short answers" }) },
  },
});
`;
}

/**
 * A tsconfig.json beside a new schedule (unless the folder has one), so that editors resolve
 * "rollout-studio" to the API's declarations shipped with the extension.
 */
export function writeScheduleTsconfig(extensionPath: string, folder: string): void {
  const file = path.join(folder, "tsconfig.json");
  if (fs.existsSync(file)) return;
  const types = path.join(extensionPath, "dist", "types", "reward", "index.d.ts").replace(/\\/g, "/");
  const config = {
    "//": "Written by Rollout Studio: lets editors check reward schedules here against its API.",
    compilerOptions: { strict: true, noEmit: true, target: "ES2022", module: "ESNext", moduleResolution: "Bundler", skipLibCheck: true, types: [], paths: { "rollout-studio": [types] } },
    include: ["*.ts"],
  };
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + "\n");
}
