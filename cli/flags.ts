// Flags and errors that several rollout-studio subcommands share.

import path from "node:path";
import { PRESETS } from "../reward/presets";
import { parseOptionArgs } from "../reward/presets/options";
import type { ScheduleSource } from "../reward/host/runner";

/** A mistake in the command line: main prints it with a pointer to the usage and exits 2. */
export class UsageError extends Error {}

/** The flags that choose the reward: a preset with options, or a schedule file. */
export const SOURCE_FLAGS = {
  preset: { type: "string" },
  schedule: { type: "string" },
  option: { type: "string", multiple: true },
} as const;

export function sourceFrom(values: { preset?: string; schedule?: string; option?: string[] }): ScheduleSource {
  if (values.preset && values.schedule) throw new UsageError("give either --preset or --schedule, not both");
  if (values.schedule) {
    if (values.option?.length) throw new UsageError("--option applies to presets; a schedule file holds its own settings");
    return { kind: "file", path: path.resolve(values.schedule) };
  }
  if (!values.preset) throw new UsageError("give --preset NAME or --schedule FILE");
  if (!PRESETS[values.preset]) throw new UsageError(`unknown preset "${values.preset}"; presets: ${Object.keys(PRESETS).join(", ")}`);
  return { kind: "preset", name: values.preset, options: parseOptionArgs(values.option ?? []) };
}

/** --format of the commands that write text for people or JSON Lines for programs. */
export function checkFormat(format: string | undefined): void {
  if (format !== "text" && format !== "json") throw new UsageError(`--format is text or json, not "${format}"`);
}

export function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number, got ${JSON.stringify(value)}`);
  return n;
}
