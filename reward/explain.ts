// Short human explanations of why predicted calls differ from the ground truth.

import { canonicalValue, counter, type ValueMode } from "./match";
import type { ToolCall } from "./parse";
import { pyDumps, pyEquals, pyTypeName, type PyValue } from "./pyjson";

const MAX_LEN = 160;

function clip(s: string): string {
  return s.length > MAX_LEN ? s.slice(0, MAX_LEN - 1) + "…" : s;
}

function show(v: PyValue): string {
  const s = pyDumps(v);
  return s.length > 40 ? s.slice(0, 39) + "…" : s;
}

/**
 * The first difference between predicted and ground-truth calls, in words: a missing or extra call, a
 * wrong function, or an argument that is missing, extra, or has a different value or type.
 * Returns "" when they match exactly under the given mode.
 */
export function explainCallMismatch(predicted: readonly ToolCall[], truth: readonly ToolCall[], mode: ValueMode = "strict"): string {
  const predNames = counter(predicted.map((c) => c.name));
  const truthNames = counter(truth.map((c) => c.name));
  for (const [name, n] of truthNames) {
    const got = predNames.get(name) ?? 0;
    if (got < n) {
      const extra = [...predNames].find(([p, m]) => (truthNames.get(p) ?? 0) < m)?.[0];
      return clip(extra !== undefined ? `called ${extra} where ${name} was expected` : `missing call to ${name}${n > 1 ? ` (${got} of ${n})` : ""}`);
    }
  }
  for (const [name, n] of predNames) {
    if ((truthNames.get(name) ?? 0) < n) return clip(`extra call to ${name}`);
  }
  // Same names: find, for each truth call, the first same-name prediction and its first argument difference.
  const used = new Set<number>();
  for (const t of truth) {
    const tKey = canonicalValue(t.arguments, mode);
    const exact = predicted.findIndex((p, i) => !used.has(i) && p.name === t.name && canonicalValue(p.arguments, mode) === tKey);
    if (exact !== -1) {
      used.add(exact);
      continue;
    }
    const i = predicted.findIndex((p, j) => !used.has(j) && p.name === t.name);
    const p = predicted[i] as ToolCall;
    used.add(i);
    const diff = explainArguments(p.arguments, t.arguments, mode);
    if (diff) return clip(`${t.name}: ${diff}`);
  }
  return "";
}

function explainArguments(pred: { [k: string]: PyValue }, truth: { [k: string]: PyValue }, mode: ValueMode): string {
  if (pred === null || typeof pred !== "object" || Array.isArray(pred)) return `arguments are a ${pyTypeName(pred as PyValue)}, not an object`;
  for (const k of Object.keys(truth)) {
    if (!Object.prototype.hasOwnProperty.call(pred, k)) return `missing argument ${k}`;
  }
  for (const k of Object.keys(pred)) {
    if (!Object.prototype.hasOwnProperty.call(truth, k)) return `unexpected argument ${k}`;
  }
  for (const k of Object.keys(truth)) {
    const p = pred[k] as PyValue;
    const t = truth[k] as PyValue;
    if (canonicalValue(p, mode) === canonicalValue(t, mode)) continue;
    if (pyEquals(p, t) || pyTypeName(p) !== pyTypeName(t)) return `${k} is ${show(p)} (${pyTypeName(p)}), expected ${show(t)} (${pyTypeName(t)})`;
    return `${k} is ${show(p)}, expected ${show(t)}`;
  }
  return "";
}
