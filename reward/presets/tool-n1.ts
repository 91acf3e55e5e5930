// Tool-N1's rule-based reward, as its released code (NVlabs/Tool-N1, toolcall.py) computes it.
//
// Default ("binary", the paper's reward): 1 when the completion has both <think> and </think> (anywhere:
// presence only) AND the LAST <tool_call> block holds JSON calls that equal the ground truth as a
// multiset of (name, json.dumps(arguments, sort_keys=True)), else 0. So call and key order do not matter,
// but types do (5, 5.0 and "5" differ). Quirks kept: a JSON-string payload is parsed again, a single
// object is wrapped in a list, an empty list matches only an empty ground truth, and the text searched
// starts at the last "<|im_start|>assistant".
//
// Variants (the code's prompt_type values): no_reason (v2), partial_reason (v3), funcname (v4),
// lexico (v1), and the llama template's binary reward.

import { BadInputError, defineSchedule, jsonTypeName, type Prepared, type RewardSample, type Schedule } from "../api";
import { sameMultiset } from "../match";
import { type ParseFailure, type ToolCall, isParseFailure, jsonFailure, missingTagFailure, tagBlocks, toToolCall } from "../parse";
import { isPyFloatObject, parsePyJson, pyDumps, pyDumpsEqual, pyHashKey, pyTypeName, type PyValue } from "../pyjson";
import { pyStrip } from "../pytext";
import { explainCallMismatch } from "../explain";
import { readOptions, type OptionSpec } from "./options";
import { memoByGroundTruth } from "./truth-cache";

export type ToolN1Variant = "binary" | "no_reason" | "partial_reason" | "funcname" | "lexico";

export interface ToolN1Options {
  variant: ToolN1Variant;
  template: "qwen" | "llama";
}

export const TOOL_N1_OPTIONS: { [K in keyof ToolN1Options]: OptionSpec } = {
  variant: { default: "binary", choices: ["binary", "no_reason", "partial_reason", "funcname", "lexico"], doc: "which of the code's rewards: binary (v0, the paper's), no_reason (v2), partial_reason (v3), funcname (v4), lexico (v1)" },
  template: { default: "qwen", choices: ["qwen", "llama"], doc: "chat template of the completions: where the assistant turn starts (llama also changes the no-tag rule)" },
};

/** How the released code's validate_result judges a prediction: 2 full match, 1 names only, 0 neither. */
type MatchLevel = 0 | 1 | 2;

export interface ToolN1Prepared extends Prepared {
  /** Both <think> and </think> appear in the assistant text. */
  thinks: boolean;
  /** A <tool_call>…</tool_call> block was found. */
  tagFound: boolean;
  /** The payload after JSON parsing, or null when the code's result is None. */
  result: PyValue[] | string | number | boolean | null;
  /** validate_format: every item is an object with "name" and "arguments". */
  wellFormed: boolean;
  match: MatchLevel;
  truth: PyValue[];
  mismatch: string;
}

const QWEN_MARKER = "<|im_start|>assistant";
const LLAMA_MARKER = "<|start_header_id|>assistant<|end_header_id|>";

function isDict(v: PyValue): v is { [k: string]: PyValue } {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !isPyFloatObject(v);
}

function validateFormat(result: PyValue[]): ParseFailure | null {
  for (let i = 0; i < result.length; i++) {
    if (!isDict(result[i] as PyValue)) return { reason: "not_a_call", message: `call ${i + 1} is a ${pyTypeName(result[i] as PyValue)}, not an object`, callIndex: i };
  }
  for (let i = 0; i < result.length; i++) {
    const item = result[i] as { [k: string]: PyValue };
    if (!("name" in item)) return { reason: "missing_name", message: `call ${i + 1} has no "name"`, callIndex: i };
    if (!("arguments" in item)) {
      const hint = "parameters" in item ? ' (it has "parameters"; Tool-N1 requires "arguments")' : "";
      return { reason: "missing_arguments", message: `call ${i + 1} has no "arguments"${hint}`, callIndex: i };
    }
  }
  return null;
}

/** The call's name as a Counter key; throws TypeError for an unhashable (list or dict) name, as Python does. */
function nameKey(item: PyValue): string {
  const name = (item as { [k: string]: PyValue }).name as PyValue;
  return typeof name === "string" ? "s" + name : pyHashKey(name);
}

/**
 * validate_result: 2 when the calls equal the truth as a multiset of (name, json.dumps(arguments,
 * sort_keys=True)), 1 when only the names do, 0 otherwise (also when a name is unhashable: the code
 * catches that TypeError). Pairs are found by equality, which is an equivalence, so a greedy search
 * finds a full pairing whenever the multisets are equal.
 */
function validateResult(result: PyValue[], answer: PyValue[]): MatchLevel {
  if (result.length === 0 || answer.length === 0) return result.length === answer.length ? 2 : 0;
  let predNames: string[];
  let truthNames: string[];
  try {
    predNames = result.map(nameKey);
    truthNames = answer.map(nameKey);
  } catch (err) {
    if (err instanceof TypeError) return 0;
    throw err;
  }
  if (result.length !== answer.length) return 0;
  const used = new Array<boolean>(answer.length).fill(false);
  let full = true;
  for (let i = 0; i < result.length && full; i++) {
    const args = (result[i] as { [k: string]: PyValue }).arguments as PyValue;
    let found = -1;
    for (let j = 0; j < answer.length; j++) {
      if (!used[j] && predNames[i] === truthNames[j] && pyDumpsEqual(args, (answer[j] as { [k: string]: PyValue }).arguments as PyValue)) {
        found = j;
        break;
      }
    }
    if (found === -1) full = false;
    else used[found] = true;
  }
  if (full) return 2;
  return sameMultiset(predNames, truthNames) ? 1 : 0;
}

/** The ground truth as the code reads it: json.loads of the string (twice if it holds a string), items need name and arguments. */
function readTruth(groundTruth: unknown): PyValue[] {
  let answer = groundTruth as PyValue;
  const bad = (problem: string) => new BadInputError("ground_truth", 'a list of {"name", "arguments"} calls or its JSON text', problem);
  try {
    if (typeof answer === "string") answer = parsePyJson(answer);
    if (typeof answer === "string") answer = parsePyJson(answer);
  } catch (err) {
    throw bad(`its text is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(answer)) throw bad(typeof groundTruth === "string" ? `its text holds ${jsonTypeName(answer)}` : `got ${jsonTypeName(groundTruth)}`);
  answer.forEach((item, i) => {
    if (!isDict(item) || !("name" in item) || !("arguments" in item)) throw bad(`call ${i + 1} is not an object with "name" and "arguments"`);
  });
  return answer;
}

// Read once per ground truth (a group's samples share it).
const cachedTruth = memoByGroundTruth(readTruth);

function prepareToolN1(sample: RewardSample, template: "qwen" | "llama"): ToolN1Prepared {
  const truth = cachedTruth(sample.groundTruth);
  let text = sample.completion;
  const marker = template === "llama" ? LLAMA_MARKER : QWEN_MARKER;
  const at = text.lastIndexOf(marker);
  if (at !== -1) text = text.slice(at);
  const thinks = text.includes("<think>") && text.includes("</think>");
  const blocks = tagBlocks(text, "tool_call");
  const out: ToolN1Prepared = { sample, thinks, tagFound: blocks.length > 0, result: null, wellFormed: false, match: 0, truth, calls: null, parseFailure: null, mismatch: "" };
  if (blocks.length === 0) {
    out.parseFailure = missingTagFailure(text, "tool_call");
    return out;
  }
  const last = blocks[blocks.length - 1] as { content: string; start: number };
  const payload = pyStrip(last.content);
  let result: PyValue;
  try {
    result = parsePyJson(payload);
    if (typeof result === "string") result = parsePyJson(result);
  } catch (err) {
    out.parseFailure = jsonFailure(err, last.start + last.content.indexOf(payload));
    return out;
  }
  if (result === null) {
    out.parseFailure = { reason: "not_a_list", message: "the tool call holds null" };
    return out;
  }
  if (isDict(result)) result = [result];
  if (!Array.isArray(result)) {
    // A string, number or boolean: the code's validate_format rejects a string (a number makes it raise).
    out.result = result as string | number | boolean;
    out.parseFailure = { reason: "not_a_list", message: `the tool call holds a ${pyTypeName(result)}, not a list of calls` };
    return out;
  }
  out.result = result;
  const formatFailure = validateFormat(result);
  if (formatFailure) {
    out.parseFailure = formatFailure;
    return out;
  }
  out.wellFormed = true;
  out.match = validateResult(result, truth);
  const calls: ToolCall[] = [];
  for (let i = 0; i < result.length; i++) {
    const item = result[i] as { [k: string]: PyValue };
    const call = toToolCall(item, i);
    // Tool-N1 accepts any JSON as arguments; show such calls with their arguments as given.
    calls.push(isParseFailure(call) ? { name: typeof item.name === "string" ? item.name : pyDumps(item.name as PyValue), arguments: item.arguments as { [k: string]: PyValue } } : call);
  }
  out.calls = calls;
  if (out.match !== 2) {
    const truthCalls = truth.map((t) => ({ name: String((t as { [k: string]: PyValue }).name), arguments: (t as { [k: string]: PyValue }).arguments as { [k: string]: PyValue } }));
    out.mismatch = safeExplain(calls, truthCalls);
  }
  return out;
}

function safeExplain(calls: ToolCall[], truth: ToolCall[]): string {
  try {
    return explainCallMismatch(calls, truth, "strict");
  } catch {
    return "calls differ from the ground truth";
  }
}

/**
 * The released code iterates the payload in validate_format; a number or boolean payload makes it raise
 * TypeError. That is a reward failure here too, named as such, rather than an invented score.
 */
function raiseIfNotIterable(p: ToolN1Prepared): void {
  if (typeof p.result === "number" || typeof p.result === "boolean") {
    throw new TypeError(`Tool-N1's released reward raises TypeError on this completion: its <tool_call> holds a ${typeof p.result === "number" ? "number" : "boolean"} (${String(p.result)}), which it tries to iterate as a list of calls`);
  }
}

function callsWhy(p: ToolN1Prepared): string {
  if (p.result === null) return p.parseFailure ? `no parseable tool call: ${p.parseFailure.message}` : "no parseable tool call";
  if (!p.wellFormed) return `calls are malformed: ${p.parseFailure?.message ?? "not a list of calls"}`;
  if (p.match === 2) return p.truth.length === 0 ? "no call expected and none made" : "calls match the ground truth exactly (any order; types must match)";
  if (p.match === 1) return `right function names, wrong arguments: ${p.mismatch}`;
  return `calls differ: ${p.mismatch || "wrong functions"}`;
}

const thinkWhy = (p: ToolN1Prepared) => (p.thinks ? "<think> and </think> present" : "missing <think> or </think>");

/** Tool-N1's reward. Options select the code's variants; the default is the paper's binary reward. */
export function toolN1(options: Partial<ToolN1Options> | { [key: string]: unknown } = {}): Schedule<ToolN1Prepared> {
  const opts = readOptions<ToolN1Options>("tool-n1", TOOL_N1_OPTIONS, options);
  if (opts.template === "llama" && opts.variant !== "binary") {
    throw new Error(`tool-n1: the released code has a llama template only for the binary reward, not for variant=${opts.variant}`);
  }
  const prepare = (sample: RewardSample) => prepareToolN1(sample, opts.template);
  const correct = (p: ToolN1Prepared) => p.wellFormed && p.match === 2;
  const common = { name: "tool-n1", options: { ...opts }, prepare };

  if (opts.template === "llama") {
    // compute_score_llama: with no <tool_call> at all, the prediction is an empty list (so an empty ground
    // truth scores 1, without a think check); with one, think tags are checked first.
    return defineSchedule<ToolN1Prepared>({
      ...common,
      description: "Tool-N1 binary reward, Llama 3 template",
      components: {
        format: { range: [0, 1], score: (p) => ({ value: !p.tagFound || p.thinks ? 1 : 0, why: p.tagFound ? thinkWhy(p) : "no <tool_call>: think tags not checked" }) },
        calls: {
          range: [0, 1],
          score: (p) => {
            if (p.tagFound && p.thinks) raiseIfNotIterable(p);
            return p.tagFound ? { value: correct(p) ? 1 : 0, why: callsWhy(p) } : { value: p.truth.length === 0 ? 1 : 0, why: p.truth.length === 0 ? "no call expected and none made" : "no <tool_call> block" };
          },
        },
      },
      combine: (c) => (c.format?.value ?? 0) * (c.calls?.value ?? 0),
    });
  }

  switch (opts.variant) {
    case "binary":
      return defineSchedule<ToolN1Prepared>({
        ...common,
        description: "Tool-N1 binary reward: think tags present AND calls exactly right",
        components: {
          format: { range: [0, 1], score: (p) => ({ value: p.thinks ? 1 : 0, why: thinkWhy(p) }) },
          calls: {
            range: [0, 1],
            score: (p) => {
              if (p.thinks) raiseIfNotIterable(p);
              return { value: correct(p) ? 1 : 0, why: callsWhy(p) };
            },
          },
        },
        combine: (c) => (c.format?.value ?? 0) * (c.calls?.value ?? 0),
      });
    case "no_reason":
      return defineSchedule<ToolN1Prepared>({
        ...common,
        description: "Tool-N1 binary reward without the reasoning-format check (v2)",
        components: {
          calls: {
            range: [0, 1],
            score: (p) => {
              raiseIfNotIterable(p);
              return { value: correct(p) ? 1 : 0, why: callsWhy(p) };
            },
          },
        },
      });
    case "partial_reason":
    case "funcname": {
      const funcname = opts.variant === "funcname";
      return defineSchedule<ToolN1Prepared>({
        ...common,
        description: funcname ? "Tool-N1 partial credit: 0.2 think + 0.8 exact calls, or 0.2 for the right function names (v4)" : "Tool-N1 partial credit: 0.2 think + 0.8 exact calls (v3)",
        components: {
          format: { range: [0, 0.2], score: (p) => ({ value: p.thinks ? 0.2 : 0, why: thinkWhy(p) }) },
          calls: {
            range: [0, 0.8],
            score: (p) => {
              raiseIfNotIterable(p);
              return { value: correct(p) ? 0.8 : funcname && p.wellFormed && p.match === 1 ? 0.2 : 0, why: callsWhy(p) };
            },
          },
        },
      });
    }
    case "lexico":
      return defineSchedule<ToolN1Prepared>({
        ...common,
        description: "Tool-N1 lexicographic reward (v1): 1.2 right with think, 1.0 right without, -0.2 wrong with think, 0 wrong without",
        components: {
          format: { range: [0, 1], score: (p) => ({ value: p.thinks ? 1 : 0, why: thinkWhy(p) }) },
          calls: {
            range: [0, 1],
            score: (p) => {
              raiseIfNotIterable(p);
              return { value: correct(p) ? 1 : 0, why: callsWhy(p) };
            },
          },
        },
        combine: (c, _t, p) => {
          const right = c.calls?.value === 1;
          const thinks = c.format?.value === 1;
          if (p.result === null) return { value: 0, why: "no parseable tool call" };
          if (right) return thinks ? { value: 1.2, why: "right calls with reasoning" } : { value: 1, why: "right calls without reasoning" };
          return thinks ? { value: -0.2, why: "wrong calls with reasoning" } : { value: 0, why: "wrong calls without reasoning" };
        },
      });
  }
}
