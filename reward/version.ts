// A schedule's version: a hash of its source and options. Every score carries it.

import { createHash } from "node:crypto";

/** Bumped when a preset's scoring changes, so preset versions change with it. */
export const PRESET_REVISION = "1";

function stableJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

/** 12 hex digits of SHA-256 over the source text and the options. */
export function scheduleVersion(source: string, options: unknown = {}): string {
  return createHash("sha256").update(source).update("\u0000").update(stableJson(options)).digest("hex").slice(0, 12);
}

export function presetVersion(name: string, options: unknown = {}): string {
  return scheduleVersion(`preset:${name}@${PRESET_REVISION}`, options);
}
