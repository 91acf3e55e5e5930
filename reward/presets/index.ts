// The papers' presets by name.

import type { AnySchedule } from "../api";
import { toolN1, TOOL_N1_OPTIONS } from "./tool-n1";
import { toolRL, TOOLRL_OPTIONS } from "./toolrl";
import { toolZero, TOOL_ZERO_OPTIONS } from "./tool-zero";
import type { OptionSpec } from "./options";

export { toolN1, toolRL, toolZero };

export interface PresetInfo {
  make: (options: { [key: string]: unknown }) => AnySchedule;
  options: { [key: string]: OptionSpec };
  summary: string;
}

export const PRESETS: { [name: string]: PresetInfo } = {
  "tool-n1": { make: toolN1, options: TOOL_N1_OPTIONS, summary: "Nemotron-Research-Tool-N1: binary format-and-exact-calls reward" },
  toolrl: { make: toolRL, options: TOOLRL_OPTIONS, summary: "ToolRL: format + fine-grained correctness in [-3, 3]" },
  "tool-zero": { make: toolZero, options: TOOL_ZERO_OPTIONS, summary: "Tool Zero: format + sigmoid mix of general (token recall) and strict (AST) rewards" },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

/** Builds a preset's schedule. Unknown names and options are errors that list what exists. */
export function makePreset(name: string, options: { [key: string]: unknown } = {}): AnySchedule {
  const info = PRESETS[name];
  if (!info) throw new Error(`unknown preset "${name}"; presets: ${presetNames().join(", ")}`);
  return info.make(options);
}
