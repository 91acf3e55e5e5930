// A schedule's version: a hash of its source and options. Every score carries it.
// versionHash is the one hash of reward versions; compile.ts uses it for a bundle's files too.

import { createHash } from "node:crypto";

/** Bumped when a preset's scoring changes, so preset versions change with it. */
export const PRESET_REVISION = "1";

function stableJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

/** 12 hex digits of SHA-256 over the chunks, one after another (callers put the separators in). */
export function versionHash(chunks: Iterable<string>): string {
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest("hex").slice(0, 12);
}

/** The version of a source text with its options. */
export function scheduleVersion(source: string, options: unknown = {}): string {
  return versionHash([source, "\u0000", stableJson(options)]);
}

export function presetVersion(name: string, options: unknown = {}): string {
  return scheduleVersion(`preset:${name}@${PRESET_REVISION}`, options);
}
