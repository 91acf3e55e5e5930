// Views of a completion and its tool calls shared by the explorer and the playground: the completion
// with its think and call regions marked, and the table of predicted vs expected calls.

import type { ArgumentDiff, CallsDiff } from "../reward/diff";
import { el } from "./ui";

const show = (v: unknown) => (v === undefined ? "" : JSON.stringify(v));

/** The completion with <think> and <tool_call> regions marked. */
export function highlighted(text: string): HTMLElement {
  const pre = el("pre", { class: "completion" });
  const pattern = /<think>[\s\S]*?(<\/think>|$)|<tool_call>[\s\S]*?(<\/tool_call>|$)/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index! > last) pre.append(text.slice(last, m.index));
    pre.append(el("span", { class: m[0].startsWith("<think>") ? "region-think" : "region-call" }, m[0]));
    last = m.index! + m[0].length;
  }
  if (last < text.length) pre.append(text.slice(last));
  return pre;
}

const DIFF_WORDS: Record<ArgumentDiff["kind"], string> = { same: "same", missing: "missing", extra: "extra", value: "different value", type: "different type" };

/** What the diff says in a sentence or two, and its table: one row per call, one per argument. `parseFailure` says why the calls did not parse. */
export function callsDiffView(diff: CallsDiff, parseFailure: string | undefined): HTMLElement[] {
  const notes: HTMLElement[] = [];
  if (!diff.parsed) notes.push(el("p", { class: "diff-note" }, `The completion did not parse (${parseFailure ?? "no calls"}): every expected call is missing.`));
  else if (diff.exact) notes.push(el("p", { class: "diff-note ok" }, "The calls match the ground truth exactly."));
  if (diff.orderDiffers) notes.push(el("p", { class: "diff-note" }, "The calls come in another order than expected."));
  const table = el("table", { class: "diff-table" });
  table.append(el("tr", {}, el("th", {}, "call"), el("th", {}, "argument"), el("th", {}, "difference"), el("th", {}, "predicted"), el("th", {}, "expected")));
  for (const call of diff.calls) {
    const title = call.kind === "wrong-function" ? `${call.predictedName} (expected ${call.name})` : call.name;
    const kind = { matched: "", "wrong-function": "wrong function", missing: "missing call", extra: "extra call" }[call.kind];
    if (!call.arguments.length || call.kind !== "matched") table.append(el("tr", { class: `diff-call diff-${call.kind}` }, el("td", {}, title), el("td", {}, ""), el("td", {}, kind || "no arguments"), el("td", {}, ""), el("td", {}, "")));
    for (const a of call.arguments) {
      table.append(
        el("tr", { class: `diff-arg diff-${a.kind}` }, el("td", {}, call.kind === "matched" ? title : ""), el("td", {}, a.argument), el("td", {}, DIFF_WORDS[a.kind]), el("td", {}, show(a.predicted)), el("td", {}, show(a.expected))),
      );
    }
  }
  return [...notes, table];
}
