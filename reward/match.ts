// Comparing predicted tool calls with ground-truth calls.

import { munkres } from "munkres";
import { isPyFloat, isPyFloatObject, isPyInt, pyCanonical, pyDumps, pyDumpsEqual, pyEquals, pyHashKey, pyTypeName, type PyValue } from "./pyjson";
import type { ToolCall } from "./parse";

// ---------------------------------------------------------------------------------------------
// Multisets

/** Counts of keys, as Python's collections.Counter. */
export function counter(keys: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

/** Whether two lists hold the same items as multisets. Sorting beats counting for the short lists of calls. */
export function sameMultiset(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  if (a.length === 1) return a[0] === b[0];
  const sa = [...a].sort();
  const sb = [...b].sort();
  for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) return false;
  return true;
}

/** |a ∩ b| for multisets. */
export function multisetIntersection(a: readonly string[], b: readonly string[]): number {
  const cb = counter(b);
  let n = 0;
  for (const [k, count] of counter(a)) n += Math.min(count, cb.get(k) ?? 0);
  return n;
}

/** Multiset Jaccard |a ∩ b| / (|a| + |b| − |a ∩ b|); 0 when either side is empty. */
export function multisetJaccard(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const inter = multisetIntersection(a, b);
  const union = a.length + b.length - inter;
  return union > 0 ? inter / union : 0;
}

// ---------------------------------------------------------------------------------------------
// Exact matching

export type ValueMode = "strict" | "coerce";

/**
 * The canonical text of a value for exact comparison. "strict" is Tool-N1's: `json.dumps(v, sort_keys=True)`,
 * so 5, 5.0 and "5" all differ. "coerce" compares numbers by value (5 == 5.0), and reads numeric and
 * boolean strings ("5", "true") as the number or boolean they spell.
 */
export function canonicalValue(value: PyValue, mode: ValueMode = "strict"): string {
  return mode === "strict" ? pyCanonical(value) : pyCanonical(coerce(value));
}

function coerce(value: PyValue): PyValue {
  if (typeof value === "string") {
    const t = value.trim();
    if (t === "true" || t === "True") return true;
    if (t === "false" || t === "False") return false;
    if (t !== "" && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
    return value;
  }
  if (isPyFloatObject(value)) return value.valueOf();
  if (Array.isArray(value)) return value.map(coerce);
  if (value !== null && typeof value === "object") {
    const out: { [k: string]: PyValue } = {};
    for (const k of Object.keys(value)) out[k] = coerce((value as Record<string, PyValue>)[k] as PyValue);
    return out;
  }
  return value;
}

/** The key of one call for exact multiset matching: its name and its canonical arguments. */
export function callKey(call: ToolCall, mode: ValueMode = "strict"): string {
  return pyHashKey(call.name) + "\u0000" + canonicalValue(call.arguments, mode);
}

/** Exact multiset match of calls: order-insensitive over calls and argument keys. Two empty lists match. */
export function exactCallsMatch(predicted: readonly ToolCall[], truth: readonly ToolCall[], mode: ValueMode = "strict"): boolean {
  if (predicted.length !== truth.length) return false;
  if (mode === "coerce") return sameMultiset(predicted.map((c) => callKey(c, mode)), truth.map((c) => callKey(c, mode)));
  // Strict: pair calls by equality (an equivalence, so a greedy search finds a pairing when one exists).
  const used = new Array<boolean>(truth.length).fill(false);
  for (const p of predicted) {
    const j = truth.findIndex((t, k) => !used[k] && t.name === p.name && pyDumpsEqual(p.arguments, t.arguments));
    if (j === -1) return false;
    used[j] = true;
  }
  return true;
}

/** Multiset match of call names only. */
export function namesMatch(predicted: readonly ToolCall[], truth: readonly ToolCall[]): boolean {
  return sameMultiset(predicted.map((c) => c.name), truth.map((c) => c.name));
}

/** Ordered list equality of calls under Python's `==` (what ToolRL's exact-match check uses). */
export function callsEqualInOrder(predicted: readonly ToolCall[], truth: readonly ToolCall[]): boolean {
  if (predicted.length !== truth.length) return false;
  for (let i = 0; i < truth.length; i++) {
    const p = predicted[i] as ToolCall;
    const t = truth[i] as ToolCall;
    if (p.name !== t.name || !pyEquals(p.arguments, t.arguments)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Partial credit

/** How many of the truth's arguments the prediction gives with an equal value (Python `==`). */
export function valueCredit(truthArgs: { [k: string]: PyValue }, predictedArgs: { [k: string]: PyValue }): number {
  let n = 0;
  for (const k of Object.keys(truthArgs)) {
    if (Object.prototype.hasOwnProperty.call(predictedArgs, k) && pyEquals(predictedArgs[k] as PyValue, truthArgs[k] as PyValue)) n++;
  }
  return n;
}

/** ToolRL's per-call score: Jaccard of argument keys plus the number of equal values. */
export function callCredit(truth: ToolCall, predicted: ToolCall): number {
  return multisetJaccard(Object.keys(truth.arguments), Object.keys(predicted.arguments)) + valueCredit(truth.arguments, predicted.arguments);
}

export interface CallPair {
  truth: number;
  predicted: number;
  score: number;
}

export type AssignmentMethod = "greedy" | "optimal";

/**
 * Pairs ground-truth calls with predicted calls of the same name.
 * "greedy" is ToolRL's: each truth call in order takes the unused same-name prediction with the highest
 * score (first on ties; a score must be above 0). "optimal" maximises the total score (Hungarian method).
 */
export function assignCalls(
  truth: readonly ToolCall[],
  predicted: readonly ToolCall[],
  method: AssignmentMethod = "greedy",
  score: (t: ToolCall, p: ToolCall) => number = callCredit,
): CallPair[] {
  if (method === "greedy") {
    const used = new Set<number>();
    const pairs: CallPair[] = [];
    truth.forEach((t, ti) => {
      let best = -1;
      let bestScore = 0;
      predicted.forEach((p, pi) => {
        if (used.has(pi) || p.name !== t.name) return;
        const s = score(t, p);
        if (s > bestScore) {
          bestScore = s;
          best = pi;
        }
      });
      if (best >= 0) {
        used.add(best);
        pairs.push({ truth: ti, predicted: best, score: bestScore });
      }
    });
    return pairs;
  }
  if (truth.length === 0 || predicted.length === 0) return [];
  const scores = truth.map((t) => predicted.map((p) => (p.name === t.name ? score(t, p) : 0)));
  const max = Math.max(0, ...scores.flat());
  const costs = scores.map((row) => row.map((s) => max - s));
  const pairs: CallPair[] = [];
  for (const [ti, pi] of munkres(costs)) {
    const s = (scores[ti] as number[])[pi] as number;
    if (s > 0) pairs.push({ truth: ti, predicted: pi, score: s });
  }
  return pairs.sort((a, b) => a.truth - b.truth);
}

// ---------------------------------------------------------------------------------------------
// BFCL-style AST check

/** A JSON-schema tool description, as the datasets carry it. */
export interface ToolSchema {
  name: string;
  description?: string;
  parameters?: {
    type?: string;
    properties?: { [name: string]: { type?: string; enum?: PyValue[]; description?: string; items?: unknown } };
    required?: string[];
  };
}

export type AstErrorKind = "wrong_function" | "missing_required" | "unknown_argument" | "wrong_type" | "wrong_value";

export interface AstError {
  kind: AstErrorKind;
  argument?: string;
  message: string;
}

export interface AstOptions {
  /** The tool's schema: required arguments, types and allowed values. Without it the truth's arguments are all required. */
  schema?: ToolSchema;
  /** BFCL's string standardisation: case, spaces and ,./-_*^ ignored when comparing strings. */
  normalizeStrings?: boolean;
}

function jsonType(v: PyValue): string {
  const t = pyTypeName(v);
  return { None: "null", str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object" }[t] ?? t;
}

function typeAccepts(schemaType: string, v: PyValue): boolean {
  switch (schemaType) {
    case "integer":
    case "int":
      return isPyInt(v);
    case "number":
    case "float":
      return isPyInt(v) || isPyFloat(v);
    case "string":
    case "str":
      return typeof v === "string";
    case "boolean":
    case "bool":
      return typeof v === "boolean";
    case "array":
    case "list":
    case "tuple":
      return Array.isArray(v);
    case "object":
    case "dict":
      return v !== null && typeof v === "object" && !Array.isArray(v) && !isPyFloatObject(v);
    default:
      return true; // "any" or an unknown type name: no constraint
  }
}

function standardize(s: string): string {
  return s.replace(/[ ,./\-_*^]/g, "").toLowerCase().replace(/'/g, '"');
}

function valuesAgree(predicted: PyValue, truth: PyValue, normalizeStrings: boolean): boolean {
  if (normalizeStrings && typeof predicted === "string" && typeof truth === "string") return standardize(predicted) === standardize(truth);
  return pyEquals(predicted, truth);
}

/**
 * Checks one predicted call against one ground-truth call as BFCL's AST checker does: the function name,
 * required arguments present, no unknown arguments, value types (an int is accepted for a float), and values.
 */
export function astCheck(predicted: ToolCall, truth: ToolCall, options: AstOptions = {}): AstError[] {
  if (predicted.name !== truth.name) {
    return [{ kind: "wrong_function", message: `called ${predicted.name} instead of ${truth.name}` }];
  }
  const errors: AstError[] = [];
  const props = options.schema?.parameters?.properties;
  const required = options.schema?.parameters?.required ?? Object.keys(truth.arguments);
  const known = props ? new Set(Object.keys(props)) : new Set(Object.keys(truth.arguments));
  for (const r of required) {
    if (!Object.prototype.hasOwnProperty.call(predicted.arguments, r)) {
      errors.push({ kind: "missing_required", argument: r, message: `missing argument ${r}` });
    }
  }
  for (const [k, v] of Object.entries(predicted.arguments)) {
    if (!known.has(k)) {
      errors.push({ kind: "unknown_argument", argument: k, message: `unknown argument ${k}` });
      continue;
    }
    const schemaType = props?.[k]?.type;
    const hasTruth = Object.prototype.hasOwnProperty.call(truth.arguments, k);
    const truthValue = truth.arguments[k] as PyValue;
    const expectedType = schemaType ?? (hasTruth ? (isPyFloat(truthValue) ? "number" : jsonType(truthValue)) : undefined);
    if (expectedType !== undefined && !typeAccepts(expectedType, v)) {
      errors.push({ kind: "wrong_type", argument: k, message: `${k} should be ${expectedType}, got ${jsonType(v)}` });
      continue;
    }
    const allowed = props?.[k]?.enum;
    if (allowed && !allowed.some((a) => valuesAgree(v, a, options.normalizeStrings ?? false))) {
      errors.push({ kind: "wrong_value", argument: k, message: `${k}=${pyDumps(v)} is not one of the allowed values` });
    } else if (hasTruth && !valuesAgree(v, truthValue, options.normalizeStrings ?? false)) {
      errors.push({ kind: "wrong_value", argument: k, message: `${k}=${pyDumps(v)}, expected ${pyDumps(truthValue)}` });
    }
  }
  return errors;
}

export interface AstMatch {
  match: boolean;
  pairs: { truth: number; predicted: number; errors: AstError[] }[];
  missingCalls: number[];
  extraCalls: number[];
}

/**
 * Matches a list of predicted calls to the ground truth with the AST check: calls are paired to minimise
 * errors (optimal assignment), and the whole matches when the counts agree and every pair is clean.
 */
export function astMatchCalls(predicted: readonly ToolCall[], truth: readonly ToolCall[], schemas: readonly ToolSchema[] = [], options: Omit<AstOptions, "schema"> = {}): AstMatch {
  const schemaOf = (name: string) => schemas.find((s) => s.name === name);
  const errorsOf = (t: ToolCall, p: ToolCall) => astCheck(p, t, { ...options, schema: schemaOf(t.name) });
  // Score: same name counts 1, each error subtracts a little, so clean pairs win.
  const pairs = assignCalls(truth, predicted, "optimal", (t, p) => 1 / (1 + errorsOf(t, p).length));
  const pairedTruth = new Set(pairs.map((p) => p.truth));
  const pairedPred = new Set(pairs.map((p) => p.predicted));
  const detailed = pairs.map((p) => ({ truth: p.truth, predicted: p.predicted, errors: errorsOf(truth[p.truth] as ToolCall, predicted[p.predicted] as ToolCall) }));
  const missingCalls = truth.map((_, i) => i).filter((i) => !pairedTruth.has(i));
  const extraCalls = predicted.map((_, i) => i).filter((i) => !pairedPred.has(i));
  const match = missingCalls.length === 0 && extraCalls.length === 0 && detailed.every((d) => d.errors.length === 0);
  return { match, pairs: detailed, missingCalls, extraCalls };
}

// ---------------------------------------------------------------------------------------------
// Token overlap

const DEFAULT_DELIMITERS = /[\s"'`{}[\]():,=<>]+/;

/** Splits text into tokens on whitespace and JSON/call punctuation. */
export function tokenize(text: string, delimiters: RegExp = DEFAULT_DELIMITERS): string[] {
  return text.split(delimiters).filter((t) => t !== "");
}

/** Multiset recall |Y ∩ Y*| / |Y*| of the reference's tokens in the prediction's. 1 when the reference has none. */
export function tokenRecall(predicted: readonly string[], reference: readonly string[]): number {
  if (reference.length === 0) return 1;
  return multisetIntersection(predicted, reference) / reference.length;
}

/** The tokens of a list of calls, in a neutral serialisation (names, keys and values). */
export function callTokens(calls: readonly ToolCall[]): string[] {
  const out: string[] = [];
  for (const c of calls) {
    out.push(c.name);
    for (const [k, v] of Object.entries(c.arguments)) {
      out.push(k);
      out.push(...tokenize(typeof v === "string" ? v : pyDumps(v)));
    }
  }
  return out;
}
