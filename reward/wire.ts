// Writing JSON lines that Python reads back with the types it wrote. Values read with the
// Python-compatible reader (pyjson.ts) keep Python's int/float split: a float with an integral value
// (40.0) is a Number object and is written as 40.0 again, not 40, so the engine's exact match sees the
// float the model wrote; bigints are written with all their digits. A non-finite float is written as
// null, as JSON.stringify does: every line stays JSON that any reader takes.

import { isPyFloatObject, pyFloatRepr } from "./pyjson";

/** True when a value holds a Number object or a bigint, which JSON.stringify would write as Python would not. */
function hasPyNumbers(value: unknown): boolean {
  if (typeof value === "bigint") return true;
  if (value === null || typeof value !== "object") return false;
  if (isPyFloatObject(value)) return true;
  if (Array.isArray(value)) return value.some(hasPyNumbers);
  for (const key in value) if (hasPyNumbers((value as Record<string, unknown>)[key])) return true;
  return false;
}

// A number's text travels through JSON.stringify as a marked string, then loses its quotes and marks.
const MARK = "\u0000py:";
const MARKED = /"\\u0000py:([-+.\w]+)\\u0000"/g;

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return `${MARK}${value.toString()}\u0000`;
  if (isPyFloatObject(value)) {
    const x = value.valueOf();
    return Number.isFinite(x) ? `${MARK}${pyFloatRepr(x)}\u0000` : null;
  }
  return value;
}

/** One line of JSON (compact, as JSON.stringify writes it) that keeps Python's number types. */
export function stringifyLine(value: unknown): string {
  if (!hasPyNumbers(value)) return JSON.stringify(value);
  return JSON.stringify(value, replacer).replace(MARKED, "$1");
}
