// A structured diff of predicted against ground-truth tool calls, argument by argument, for the rollout
// explorer. Calls are paired as the partial-credit rewards pair them (same name, the best total credit,
// Hungarian method); what stays unpaired is a wrong function (a predicted and an expected call left over
// at the same time), a missing call or an extra call.

import { assignCalls, callCredit } from "./match";
import type { ToolCall } from "./parse";
import { pyEquals, pyTypeName, type PyValue } from "./pyjson";

export type ArgumentDiffKind = "same" | "missing" | "extra" | "value" | "type";

export interface ArgumentDiff {
  argument: string;
  kind: ArgumentDiffKind;
  predicted?: PyValue;
  expected?: PyValue;
}

export type CallDiffKind = "matched" | "wrong-function" | "missing" | "extra";

export interface CallDiff {
  kind: CallDiffKind;
  /** The expected call's name (the predicted one's for an extra call). */
  name: string;
  predictedName?: string;
  truthIndex?: number;
  predictedIndex?: number;
  arguments: ArgumentDiff[];
}

export interface CallsDiff {
  /** False when the completion's calls could not be parsed: everything expected is missing. */
  parsed: boolean;
  calls: CallDiff[];
  /** The paired calls come in another order than expected (order matters to some rewards, not others). */
  orderDiffers: boolean;
  /** Every call paired and every argument the same (type-strict). */
  exact: boolean;
}

function hasKey(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

export function diffArguments(predicted: { [k: string]: PyValue }, expected: { [k: string]: PyValue }): ArgumentDiff[] {
  const out: ArgumentDiff[] = [];
  for (const [argument, value] of Object.entries(expected)) {
    if (!hasKey(predicted, argument)) {
      out.push({ argument, kind: "missing", expected: value });
      continue;
    }
    const got = predicted[argument] as PyValue;
    if (pyEquals(got, value)) out.push({ argument, kind: "same", predicted: got, expected: value });
    else out.push({ argument, kind: pyTypeName(got) === pyTypeName(value) ? "value" : "type", predicted: got, expected: value });
  }
  for (const [argument, value] of Object.entries(predicted)) {
    if (!hasKey(expected, argument)) out.push({ argument, kind: "extra", predicted: value });
  }
  return out;
}

export function diffCalls(predicted: readonly ToolCall[] | null, truth: readonly ToolCall[]): CallsDiff {
  const calls = predicted ?? [];
  // 1 + credit: a same-name pair with no argument in common still pairs.
  const pairs = assignCalls(truth, calls, "optimal", (t, p) => 1 + callCredit(t, p));
  const diffs: CallDiff[] = pairs.map((pair) => {
    const t = truth[pair.truth] as ToolCall;
    const p = calls[pair.predicted] as ToolCall;
    return { kind: "matched", name: t.name, truthIndex: pair.truth, predictedIndex: pair.predicted, arguments: diffArguments(p.arguments, t.arguments) };
  });
  const missing = truth.map((_, i) => i).filter((i) => !pairs.some((p) => p.truth === i));
  const extra = calls.map((_, i) => i).filter((i) => !pairs.some((p) => p.predicted === i));
  while (missing.length && extra.length) {
    const ti = missing.shift() as number;
    const pi = extra.shift() as number;
    const t = truth[ti] as ToolCall;
    const p = calls[pi] as ToolCall;
    diffs.push({ kind: "wrong-function", name: t.name, predictedName: p.name, truthIndex: ti, predictedIndex: pi, arguments: diffArguments(p.arguments, t.arguments) });
  }
  for (const ti of missing) {
    const t = truth[ti] as ToolCall;
    diffs.push({ kind: "missing", name: t.name, truthIndex: ti, arguments: Object.entries(t.arguments).map(([argument, expected]) => ({ argument, kind: "missing" as const, expected })) });
  }
  for (const pi of extra) {
    const p = calls[pi] as ToolCall;
    diffs.push({ kind: "extra", name: p.name, predictedIndex: pi, arguments: Object.entries(p.arguments).map(([argument, value]) => ({ argument, kind: "extra" as const, predicted: value })) });
  }
  diffs.sort((a, b) => (a.truthIndex ?? Infinity) - (b.truthIndex ?? Infinity) || (a.predictedIndex ?? 0) - (b.predictedIndex ?? 0));
  const paired = pairs.map((p) => p.predicted);
  const orderDiffers = paired.some((v, i) => i > 0 && v < (paired[i - 1] as number));
  const exact = predicted !== null && diffs.every((d) => d.kind === "matched" && d.arguments.every((a) => a.kind === "same"));
  return { parsed: predicted !== null, calls: diffs, orderDiffers, exact };
}

/** One difference of a CallsDiff, in words, with the calls as they would be were it fixed. */
export interface Difference {
  label: string;
  fixed: ToolCall[];
}

function clone(calls: readonly ToolCall[]): ToolCall[] {
  return calls.map((c) => ({ name: c.name, arguments: { ...c.arguments } }));
}

/**
 * Each difference on its own, and the predicted calls with only that one fixed, so that re-scoring them
 * says what that difference cost in each reward component. Order counts as one difference.
 */
export function differences(predicted: readonly ToolCall[], truth: readonly ToolCall[], diff: CallsDiff = diffCalls(predicted, truth)): Difference[] {
  const out: Difference[] = [];
  for (const call of diff.calls) {
    if (call.kind === "missing") {
      out.push({ label: `missing call ${call.name}`, fixed: [...clone(predicted), { ...(truth[call.truthIndex as number] as ToolCall) }] });
      continue;
    }
    if (call.kind === "extra") {
      out.push({ label: `extra call ${call.name}`, fixed: clone(predicted).filter((_, i) => i !== call.predictedIndex) });
      continue;
    }
    if (call.kind === "wrong-function") {
      const fixed = clone(predicted);
      fixed[call.predictedIndex as number] = { ...(truth[call.truthIndex as number] as ToolCall) };
      out.push({ label: `${call.predictedName} called instead of ${call.name}`, fixed });
      continue;
    }
    for (const a of call.arguments) {
      if (a.kind === "same") continue;
      const fixed = clone(predicted);
      const args = (fixed[call.predictedIndex as number] as ToolCall).arguments;
      if (a.kind === "extra") delete args[a.argument];
      else args[a.argument] = a.expected as PyValue;
      const words = { missing: "missing", extra: "extra", value: "different value", type: "different type" }[a.kind];
      out.push({ label: `${call.name}: ${a.argument} (${words})`, fixed });
    }
  }
  if (diff.orderDiffers) {
    const order = diff.calls.filter((c) => c.kind === "matched").sort((a, b) => (a.truthIndex as number) - (b.truthIndex as number));
    const rest = predicted.filter((_, i) => !order.some((c) => c.predictedIndex === i));
    out.push({ label: "call order", fixed: [...order.map((c) => ({ ...(predicted[c.predictedIndex as number] as ToolCall) })), ...clone(rest)] });
  }
  return out;
}
