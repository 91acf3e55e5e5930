// Tool Zero's reward: R = format + σ(t)·strict + (1 − σ(t))·general.
//
// No code of the paper is public; docs/rewards.md says which parts follow the paper's text (as
// secondary sources report it) and which are our reading:
// - σ(t) = 1 / (1 + e^(−κ(t − m))), κ = 0.1 and m = 25 by default (paper), t in steps by default (the
//   paper's unit is not recovered: steps, epochs or percent of training are options).
// - general (exploratory): token-overlap recall of the reference call's tokens in the answer, − 0.5,
//   in [−0.5, 0.5] (paper). −0.5 when there is no answer block (the floor).
// - strict (exploitative): 1 when the calls pass a BFCL-style AST check (paper), + 0.3 when the ground
//   truth has several calls and all are right (paper: multi-tool bonus), − 0.3 when the functions are
//   right but a value or type is wrong (paper: value-error signal; the sign is our reading).
// - format: 1 when <think>…</think> comes before the answer block, each exactly once (paper: tags in
//   order; the value 1 is our reading). The answer tag is <tool_call> here, as in our templates; the
//   paper's reported <answer> is `answer_tag=answer`.

import { defineSchedule, readGroundTruthCalls, sigmoid, type Prepared, type RewardSample, type Schedule, type TrainingTime } from "../api";
import { astMatchCalls, callTokens, tokenRecall, tokenize, type AstMatch } from "../match";
import { parseCompletion, tagBlocks, type ParsedCompletion, type ToolCall } from "../parse";
import { pyCount } from "../pytext";
import { readOptions, type OptionSpec } from "./options";
import { memoByGroundTruth } from "./truth-cache";

export interface ToolZeroOptions {
  steepness: number;
  midpoint: number;
  unit: "step" | "epoch" | "percent";
  multi_tool_bonus: number;
  value_error_penalty: number;
  answer_tag: string;
  format_reward: number;
}

export const TOOL_ZERO_OPTIONS: { [K in keyof ToolZeroOptions]: OptionSpec } = {
  steepness: { default: 0.1, doc: "κ, the sigmoid's steepness" },
  midpoint: { default: 25, doc: "m, where the weight of strict reaches 0.5, in `unit`" },
  unit: { default: "step", choices: ["step", "epoch", "percent"], doc: "what t counts: optimizer steps, epochs, or percent of training" },
  multi_tool_bonus: { default: 0.3, doc: "added to strict when a several-call ground truth is matched" },
  value_error_penalty: { default: 0.3, doc: "subtracted from strict when the functions are right but a value or type is wrong" },
  answer_tag: { default: "tool_call", doc: "the tag holding the calls (the paper reports <answer>)" },
  format_reward: { default: 1, doc: "the format component's value when the tags are right" },
};

export interface ToolZeroPrepared extends Prepared {
  parsed: ParsedCompletion;
  truth: ToolCall[];
  /** The raw text of the answer block, or null when there is none. */
  answer: string | null;
  ast: AstMatch | null;
}

/** The schedule's t in the chosen unit. */
export function toolZeroClock(t: TrainingTime, unit: ToolZeroOptions["unit"]): number {
  return unit === "epoch" ? t.epoch : unit === "percent" ? 100 * t.progress : t.step;
}

const readTruth = memoByGroundTruth(readGroundTruthCalls);

function prepareToolZero(sample: RewardSample, opts: ToolZeroOptions): ToolZeroPrepared {
  const truth = readTruth(sample.groundTruth);
  const parsed = parseCompletion(sample.completion, { callTag: opts.answer_tag });
  const blocks = tagBlocks(parsed.text, opts.answer_tag);
  const answer = blocks.length ? (blocks[blocks.length - 1] as { content: string }).content : null;
  const ast = parsed.calls ? astMatchCalls(parsed.calls, truth, sample.tools ?? []) : null;
  return { sample, parsed, truth, answer, ast, calls: parsed.calls, parseFailure: parsed.failure };
}

function formatScore(p: ToolZeroPrepared, opts: ToolZeroOptions): { value: number; why: string } {
  const text = p.parsed.text;
  const tag = opts.answer_tag;
  const counts = [pyCount(text, "<think>"), pyCount(text, "</think>"), pyCount(text, `<${tag}>`), pyCount(text, `</${tag}>`)];
  if (counts.some((n) => n !== 1)) return { value: 0, why: `needs exactly one <think>…</think> and one <${tag}>…</${tag}>` };
  const order = [text.indexOf("<think>"), text.indexOf("</think>"), text.indexOf(`<${tag}>`), text.indexOf(`</${tag}>`)];
  const inOrder = order.every((x, i) => i === 0 || x > (order[i - 1] as number));
  return inOrder ? { value: opts.format_reward, why: `<think> then <${tag}>, in order` } : { value: 0, why: `<think>…</think> must come before <${tag}>…</${tag}>` };
}

function strictScore(p: ToolZeroPrepared, opts: ToolZeroOptions): { value: number; why: string } {
  if (p.ast === null || p.calls === null) return { value: 0, why: `no calls parsed${p.parseFailure ? `: ${p.parseFailure.message}` : ""}` };
  const ast = p.ast;
  if (ast.match) {
    const bonus = p.truth.length > 1 ? opts.multi_tool_bonus : 0;
    return { value: 1 + bonus, why: bonus ? `all ${p.truth.length} calls right (+${bonus} multi-tool bonus)` : p.truth.length ? "the call is right" : "no call expected and none made" };
  }
  const errors = ast.pairs.flatMap((pair) => pair.errors);
  const functionsRight = ast.missingCalls.length === 0 && ast.extraCalls.length === 0 && errors.every((e) => e.kind !== "wrong_function");
  const valueErrors = errors.filter((e) => e.kind === "wrong_value" || e.kind === "wrong_type");
  const first = ast.missingCalls.length ? `missing ${p.truth[ast.missingCalls[0] as number]?.name} call` : ast.extraCalls.length ? `extra ${p.calls[ast.extraCalls[0] as number]?.name} call` : errors[0]?.message ?? "";
  if (functionsRight && valueErrors.length > 0) return { value: -opts.value_error_penalty, why: `right functions, ${valueErrors[0]?.message} (−${opts.value_error_penalty})` };
  return { value: 0, why: `calls do not match: ${first}` };
}

function generalScore(p: ToolZeroPrepared): { value: number; why: string } {
  if (p.truth.length === 0) {
    const none = p.calls !== null && p.calls.length === 0;
    return none ? { value: 0.5, why: "no call expected and none made" } : { value: -0.5, why: "no call was expected" };
  }
  if (p.answer === null && p.calls === null) return { value: -0.5, why: "no answer block" };
  const reference = callTokens(p.truth);
  const predicted = p.answer !== null ? tokenize(p.answer) : callTokens(p.calls ?? []);
  const recall = tokenRecall(predicted, reference);
  return { value: recall - 0.5, why: `${Math.round(recall * reference.length)} of ${reference.length} reference tokens present` };
}

/** Tool Zero's exploratory-to-exploitative reward (our reading of the paper; see docs/rewards.md). */
export function toolZero(options: Partial<ToolZeroOptions> | { [key: string]: unknown } = {}): Schedule<ToolZeroPrepared> {
  const opts = readOptions<ToolZeroOptions>("tool-zero", TOOL_ZERO_OPTIONS, options);
  const strictWeight = (t: TrainingTime) => sigmoid(toolZeroClock(t, opts.unit), opts.steepness, opts.midpoint);
  return defineSchedule<ToolZeroPrepared>({
    name: "tool-zero",
    description: "Tool Zero: format + σ(t)·strict + (1 − σ(t))·general",
    options: { ...opts },
    prepare: (sample) => prepareToolZero(sample, opts),
    components: {
      format: { description: "think and answer tags present, once each, in order", range: [0, opts.format_reward], score: (p) => formatScore(p, opts) },
      strict: {
        description: "AST match of the calls, with the multi-tool bonus and the value-error penalty",
        range: [-opts.value_error_penalty, 1 + opts.multi_tool_bonus],
        weight: strictWeight,
        score: (p) => strictScore(p, opts),
      },
      general: {
        description: "token-overlap recall of the reference call, minus 0.5",
        range: [-0.5, 0.5],
        weight: (t) => 1 - strictWeight(t),
        score: (p) => generalScore(p),
      },
    },
  });
}
