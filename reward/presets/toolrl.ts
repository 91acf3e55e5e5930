// ToolRL's reward, as its released code (qiancheng0/ToolRL, verl/utils/reward_score/rlla.py) computes it.
//
// R = format + correctness (+ length when enabled), components named as the code logs them.
// - format ∈ {min, max} (default {0, 1}): an anchored regex whose shape depends on what the ground
//   truth holds (think + tool_call, think + response, all three, or think only), with exact tag counts.
// - correctness ∈ [min, max] (default [−3, 3]): ground truth without <tool_call> gives 0; otherwise the
//   FIRST <tool_call> block is read as JSON Lines; any failure gives the minimum; an ordered exact match
//   gives the maximum; else name Jaccard + greedy same-name matching with key Jaccard + equal values,
//   normalised by 1 + Σ(1 + |params|) and mapped onto [min, max].
// Variants, which the code switches with environment variables, are options here; `step` is the
// global step the schedules read.

import { BadInputError, defineSchedule, jsonTypeName, type Prepared, type RewardSample, type Schedule, type TrainingTime } from "../api";
import { counter } from "../match";
import { type ParseFailure, type ToolCall, jsonFailure, toToolCall, isParseFailure } from "../parse";
import { isPyFloatObject, parsePyJson, pyDumps, pyEquals, pyHashKey, pyTypeName, type PyValue } from "../pyjson";
import { pyCount, pyRound2, pySplitWhitespace, pyStrip } from "../pytext";
import { explainCallMismatch } from "../explain";
import { readOptions, type OptionSpec } from "./options";
import { memoByGroundTruth } from "./truth-cache";

export interface ToolRLOptions {
  template: "qwen" | "llama";
  equal_max: boolean;
  two_stage: boolean;
  dynamic_scale: boolean;
  fine_grained: boolean;
  intermediate: boolean;
  coarse: boolean;
  length: "off" | "fixed" | "dynamic";
}

export const TOOLRL_OPTIONS: { [K in keyof ToolRLOptions]: OptionSpec } = {
  template: { default: "qwen", choices: ["qwen", "llama"], doc: "chat template: where the assistant turn starts and ends" },
  equal_max: { default: false, doc: "§5.2 equal max (CORRECTMAX1): correctness in [-1, 1]" },
  two_stage: { default: false, doc: "§5.2 two-stage (MAX1STEP30MAX3): correctness [-1, 1] before step 30, format [0, 0.5] from step 30" },
  dynamic_scale: { default: false, doc: "§5.2 dynamic scale (SCHEDULEREWARD): format range shrinks from ±2 to [-1, 1], correctness grows from ±2 to ±3 over 150 steps" },
  fine_grained: { default: false, doc: "§5.3 fine-grained (REFINEDREWARD): Jaccard terms give 1 only for identical lists, order included" },
  intermediate: { default: false, doc: "§5.3 intermediate (INTERMEDIATEREWARD): 1 per ground-truth call matched exactly" },
  coarse: { default: false, doc: "§5.3 coarse (COARSEREWARD): maximum for an exact ordered match, else minimum" },
  length: { default: "off", choices: ["off", "fixed", "dynamic"], doc: "§5.1 length reward (WITHLENGTH, SCHEDULELENGTH): think words / 512, or / (384 + 256·step/105)" },
};

const QWEN = ["<|im_start|>assistant", "<|im_end|>"] as const;
const LLAMA = ["<|start_header_id|>assistant<|end_header_id|>", "<|eot_id|>"] as const;

export function formatRange(opts: ToolRLOptions, step: number): [number, number] {
  let max = 1;
  let min = 0;
  if (opts.two_stage && step >= 30) {
    max /= 2;
    min /= 2;
  }
  if (opts.dynamic_scale) {
    max = 2 - ((2 - max) * step) / 150;
    min = -2 + ((2 + min) * step) / 150;
    if (max < 1) max = 1;
    if (min > -1) min = -1;
  }
  return [min, max];
}

export function correctnessRange(opts: ToolRLOptions, step: number): [number, number] {
  let max = opts.equal_max ? 1 : 3;
  let min = opts.equal_max ? -1 : -3;
  if (opts.two_stage && step < 30) {
    max /= 3;
    min /= 3;
  }
  if (opts.dynamic_scale) {
    max = ((max - 2) * step) / 150 + 2;
    min = ((min + 2) * step) / 150 - 2;
    if (max > 3) max = 3;
    if (min < -3) min = -3;
  }
  return [min, max];
}

// Python's behaviour on values read from JSON, raising where Python raises.
class PyError extends Error {}

function getItem(obj: PyValue, key: string): PyValue {
  if (obj === null || typeof obj !== "object" || isPyFloatObject(obj)) throw new PyError(`'${pyTypeName(obj)}' object is not subscriptable`);
  if (Array.isArray(obj)) throw new PyError("list indices must be integers or slices, not str");
  if (!Object.prototype.hasOwnProperty.call(obj, key)) throw new PyError(`KeyError: '${key}'`);
  return obj[key] as PyValue;
}

function pyLen(v: PyValue): number {
  if (typeof v === "string") return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (v !== null && typeof v === "object" && !isPyFloatObject(v)) return Object.keys(v).length;
  throw new PyError(`object of type '${pyTypeName(v)}' has no len()`);
}

function dictKeys(v: PyValue): string[] {
  if (v === null || typeof v !== "object" || Array.isArray(v) || isPyFloatObject(v)) throw new PyError(`'${pyTypeName(v)}' object has no attribute 'keys'`);
  return Object.keys(v);
}

/** The code's match_score: 1 for equal lists, Jaccard of multisets otherwise (0 in fine-grained mode). */
function matchScore(a: PyValue[], b: PyValue[], fineGrained: boolean): number {
  if (pyEquals(a, b)) return 1;
  if (fineGrained) return 0;
  if (a.length === 0 || b.length === 0) return 0;
  const ca = counter(a.map(pyHashKey));
  const cb = counter(b.map(pyHashKey));
  let inter = 0;
  for (const [k, n] of ca) inter += Math.min(n, cb.get(k) ?? 0);
  const union = a.length + b.length - inter;
  return union > 0 ? inter / union : 0;
}

/** compute_tool_call_reward. Throws PyError where the code raises (the caller turns that into the minimum). */
function toolCallReward(gt: PyValue[], pd: PyValue[], opts: ToolRLOptions, range: [number, number]): number {
  const [min, max] = range;
  if (pyEquals(gt, pd)) return max;
  if (opts.coarse) return min;
  const gtNames = gt.map((t) => getItem(t, "name"));
  const pdNames = pd.map((t) => getItem(t, "name"));
  let score = matchScore(gtNames, pdNames, opts.fine_grained);
  let localMax = 1;
  const used = new Set<number>();
  for (const gtTool of gt) {
    const gtName = getItem(gtTool, "name");
    const gtParams = getItem(gtTool, "parameters");
    localMax += opts.intermediate ? 1 : 1 + pyLen(gtParams);
    let best = -1;
    let bestScore = 0;
    for (let i = 0; i < pd.length; i++) {
      const pdTool = pd[i] as PyValue;
      if (used.has(i) || !pyEquals(getItem(pdTool, "name"), gtName)) continue;
      if (opts.intermediate) {
        if (pyEquals(gtTool, pdTool)) {
          best = i;
          bestScore = 1;
          break;
        }
        continue;
      }
      const pdParams = getItem(pdTool, "parameters");
      const gtKeys = dictKeys(gtParams);
      const paramScore = matchScore(gtKeys, dictKeys(pdParams), opts.fine_grained);
      let valueScore = 0;
      const pdDict = pdParams as { [k: string]: PyValue };
      for (const k of gtKeys) {
        if (Object.prototype.hasOwnProperty.call(pdDict, k) && pyEquals(pdDict[k] as PyValue, (gtParams as { [k: string]: PyValue })[k] as PyValue)) valueScore += 1;
      }
      const total = paramScore + valueScore;
      if (total > bestScore) {
        bestScore = total;
        best = i;
      }
    }
    if (best >= 0) {
      used.add(best);
      score += bestScore;
    }
  }
  return ((max - min) * score) / localMax + min;
}

/** `s.split(open)[1].split(close)[0]`: the text after the first `open`, up to the next `open` or `close`. */
function firstSegment(s: string, open: string, close: string): string {
  const a = s.indexOf(open);
  if (a === -1) throw new PyError("list index out of range");
  const from = a + open.length;
  let end = s.indexOf(open, from);
  if (end === -1) end = s.length;
  const segment = s.slice(from, end);
  const c = segment.indexOf(close);
  return c === -1 ? segment : segment.slice(0, c);
}

class JsonLineError extends Error {
  constructor(readonly line: number, override readonly cause: unknown) {
    super((cause as Error).message);
  }
}

/** One JSON value per line, as the code's `[json.loads(l) for l in block.split("\n")]`. */
function jsonLines(block: string): PyValue[] {
  const lines = block.split("\n");
  const out: PyValue[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    try {
      out[i] = parsePyJson(lines[i] as string);
    } catch (err) {
      throw new JsonLineError(i + 1, err);
    }
  }
  return out;
}

/** The calls in the ground truth's first <tool_call> block, one JSON object per line; read once per ground truth. */
const readTruthCalls = memoByGroundTruth((truthText) => {
  try {
    return jsonLines(pyStrip(firstSegment(truthText as string, "<tool_call>", "</tool_call>")));
  } catch (err) {
    const detail = err instanceof JsonLineError ? `line ${err.line}: ${(err.cause as Error).message}` : (err as Error).message;
    throw new BadInputError("ground_truth", "ToolRL's target string or a list of calls", `its <tool_call> block is not JSON Lines: ${detail}`);
  }
});

export interface ToolRLPrepared extends Prepared {
  response: string;
  truthText: string;
  truthHasCall: boolean;
  truthHasResponse: boolean;
  /** Ground-truth calls as the code reads them (null when the ground truth has no <tool_call>). */
  gtTools: PyValue[] | null;
  /** Predicted calls as raw JSON values, or null with the parse failure. */
  pdTools: PyValue[] | null;
}

/** ToolRL's ground truth is its tagged target string; a list of calls is turned into one. */
function truthString(groundTruth: unknown): string {
  if (typeof groundTruth === "string") return groundTruth;
  if (Array.isArray(groundTruth)) {
    if (groundTruth.length === 0) return "<think></think>\n<response></response>";
    const lines = groundTruth.map((c: { [k: string]: PyValue } | null, i) => {
      if (c === null || typeof c !== "object" || Array.isArray(c)) throw new BadInputError("ground_truth", "ToolRL's target string or a list of calls", `call ${i + 1} is ${jsonTypeName(c)}, not an object`);
      return pyDumps({ name: c.name as PyValue, parameters: (c.parameters ?? c.arguments) as PyValue });
    });
    return `<think></think>\n<tool_call>\n${lines.join("\n")}\n</tool_call>`;
  }
  throw new BadInputError("ground_truth", "ToolRL's target string or a list of calls", `got ${jsonTypeName(groundTruth)}`);
}

function asToolCalls(values: PyValue[]): ToolCall[] | ParseFailure {
  const calls: ToolCall[] = [];
  for (let i = 0; i < values.length; i++) {
    const call = toToolCall(values[i] as PyValue, i);
    if (isParseFailure(call)) return call;
    calls.push(call);
  }
  return calls;
}

function prepareToolRL(sample: RewardSample, opts: ToolRLOptions): ToolRLPrepared {
  const [start, end] = opts.template === "llama" ? LLAMA : QWEN;
  const afterStart = sample.completion.split(start);
  const response = pyStrip((afterStart[afterStart.length - 1] as string).split(end)[0] as string);
  const truthText = truthString(sample.groundTruth);
  const truthHasCall = truthText.includes("<tool_call>");
  let gtTools: PyValue[] | null = null;
  if (truthHasCall) gtTools = readTruthCalls(truthText);
  const out: ToolRLPrepared = {
    sample, response, truthText, truthHasCall, truthHasResponse: truthText.includes("<response>"), gtTools, pdTools: null, calls: null, parseFailure: null,
  };
  if (!response.includes("<tool_call>")) {
    // No call where none is expected is a right answer, not a parse failure.
    if (truthHasCall) out.parseFailure = { reason: "no_tag", message: "no <tool_call> in the response" };
    else out.calls = [];
  } else if (!response.includes("</tool_call>")) {
    out.parseFailure = { reason: "unclosed_tag", message: "<tool_call> is never closed with </tool_call>" };
  } else {
    const block = pyStrip(firstSegment(response, "<tool_call>", "</tool_call>"));
    try {
      out.pdTools = jsonLines(block);
    } catch (err) {
      const lineError = err as JsonLineError;
      const failure = jsonFailure(lineError.cause);
      failure.message = `line ${lineError.line} of the tool call is not a JSON object on one line: ${(lineError.cause as Error).message}`;
      if (failure.position) failure.position.line = lineError.line;
      out.parseFailure = failure;
    }
    if (out.pdTools) {
      const calls = asToolCalls(out.pdTools);
      const noParameters = out.pdTools.findIndex((v) => v !== null && typeof v === "object" && !Array.isArray(v) && !("parameters" in v));
      if (isParseFailure(calls)) out.parseFailure = calls;
      else if (noParameters !== -1) {
        out.parseFailure = { reason: "missing_arguments", message: `call ${noParameters + 1} has no "parameters" (ToolRL's format requires "parameters")`, callIndex: noParameters };
      } else out.calls = calls;
    }
  }
  return out;
}

const FORMAT_PATTERNS = {
  response: /^<think>[\s\S]*?<\/think>\n<response>[\s\S]*?<\/response>$/,
  toolCall: /^<think>[\s\S]*?<\/think>\n<tool_call>\n[\s\S]*?\n<\/tool_call>$/,
  both: /^<think>[\s\S]*?<\/think>\n<tool_call>\n[\s\S]*?\n<\/tool_call>\n<response>[\s\S]*?<\/response>$/,
  thinkOnly: /^<think>[\s\S]*?<\/think>$/,
};

function formatPasses(p: ToolRLPrepared): { pass: boolean; why: string } {
  const r = p.response;
  if (p.truthHasResponse && !p.truthHasCall) {
    const pass = FORMAT_PATTERNS.response.test(r) && pyCount(r, "<response>") === 1 && pyCount(r, "</response>") === 1;
    return { pass, why: pass ? "think then one response, as required" : "expected exactly <think>…</think>\\n<response>…</response>" };
  }
  if (p.truthHasCall && !p.truthHasResponse) {
    const pass = FORMAT_PATTERNS.toolCall.test(r) && pyCount(r, "<tool_call>") === 1 && pyCount(r, "</tool_call>") === 1;
    return { pass, why: pass ? "think then one tool_call block, as required" : "expected exactly <think>…</think>\\n<tool_call>\\n…\\n</tool_call>" };
  }
  if (p.truthHasCall && p.truthHasResponse) {
    const pass = FORMAT_PATTERNS.both.test(r) && pyCount(r, "<tool_call>") === 1 && pyCount(r, "</tool_call>") === 1 && pyCount(r, "<response>") === 1 && pyCount(r, "</response>") === 1;
    return { pass, why: pass ? "think, tool_call and response in order, as required" : "expected <think>…</think>, one <tool_call> block, then one <response>" };
  }
  const pass = FORMAT_PATTERNS.thinkOnly.test(r);
  return { pass, why: pass ? "think only, as required" : "expected only <think>…</think>" };
}

function correctness(p: ToolRLPrepared, opts: ToolRLOptions, range: [number, number]): { value: number; why: string } {
  if (!p.truthHasCall || p.gtTools === null) return { value: 0, why: "the ground truth has no tool call: ToolRL gives correctness 0" };
  if (p.pdTools === null) return { value: range[0], why: `minimum: ${p.parseFailure?.message ?? "no tool call"}` };
  let value: number;
  try {
    value = toolCallReward(p.gtTools, p.pdTools, opts, range);
  } catch (err) {
    return { value: range[0], why: `minimum: ${(err as Error).message}` };
  }
  if (value === range[1]) return { value, why: "calls match the ground truth" };
  let diff = "";
  if (p.calls) {
    const truth = asToolCalls(p.gtTools);
    if (!isParseFailure(truth)) diff = explainCallMismatch(p.calls, truth, "coerce") || explainCallMismatch(p.calls, truth, "strict");
  }
  return { value, why: `partial credit${diff ? `: ${diff}` : ""}` };
}

function lengthValue(p: ToolRLPrepared, opts: ToolRLOptions, step: number): { value: number; why: string } {
  if (!p.response.includes("<think>") || !p.response.includes("</think>")) return { value: 0, why: "no <think>…</think>" };
  const afterThink = p.response.split("<think>");
  const think = pyStrip((afterThink[afterThink.length - 1] as string).split("</think>")[0] as string);
  const target = opts.length === "dynamic" ? ((640 - 384) * step) / 105 + 384 : 512;
  const words = pySplitWhitespace(think).length;
  let r = pyRound2(words / target);
  if (r > 1) r = 1;
  return { value: r * (1 - 0) + 0, why: `${words} words of reasoning against a target of ${Math.round(target)}` };
}

/** ToolRL's reward. Options select the paper's §5 variants; defaults give the paper's main reward. */
export function toolRL(options: Partial<ToolRLOptions> | { [key: string]: unknown } = {}): Schedule<ToolRLPrepared> {
  const opts = readOptions<ToolRLOptions>("toolrl", TOOLRL_OPTIONS, options);
  const components: Schedule<ToolRLPrepared>["components"] = {
    format: {
      description: "the response has the shape the ground truth calls for",
      range: (t: TrainingTime) => formatRange(opts, t.step),
      score: (p, t) => {
        const range = formatRange(opts, t.step);
        const { pass, why } = formatPasses(p);
        return { value: pass ? range[1] : range[0], why };
      },
    },
    correctness: {
      description: "partial credit for tool names, argument names and values",
      range: (t: TrainingTime) => correctnessRange(opts, t.step),
      score: (p, t) => correctness(p, opts, correctnessRange(opts, t.step)),
    },
  };
  if (opts.length !== "off") {
    components.length = { description: "longer reasoning, up to a target word count", range: [0, 1], score: (p, t) => lengthValue(p, opts, t.step) };
  }
  return defineSchedule<ToolRLPrepared>({
    name: "toolrl",
    description: "ToolRL: format + fine-grained correctness",
    options: { ...opts },
    prepare: (sample) => prepareToolRL(sample, opts),
    components,
  });
}

