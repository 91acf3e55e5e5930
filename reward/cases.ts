// Reward test cases: files of samples with the reward they should get (`*.reward-cases.jsonl`), checked
// against a preset or a schedule — headless (`rollout-studio test-rewards`), and in VS Code's Test Explorer.
//
// One case per line:
//   {"name": "exact call, full reward", "completion": "...", "ground_truth": [...], "step": 10,
//    "expect": {"total": 1, "components": {"format": 1}, "tolerance": 1e-6}}
// `expect` may give the total, some components, or a reward failure ({"failure": "exception"}); the
// tolerance (default 1e-6) applies to every number.

import { parsePyJson, type PyValue } from "./pyjson";
import type { RewardScore } from "./score";

export interface RewardCase {
  file: string;
  /** 1-based line of the case in its file. */
  line: number;
  name: string;
  /** The sample as the scorer reads it: completion, ground_truth, step… */
  sample: PyValue;
  expect: { total?: number; components?: Record<string, number>; failure?: string; tolerance: number };
}

export interface CaseProblem {
  file: string;
  line: number;
  message: string;
}

export interface CaseResult {
  file: string;
  line: number;
  name: string;
  ok: boolean;
  /** What differs, in words ("" when ok). */
  message: string;
  expected: RewardCase["expect"] | null;
  actual: { total: number | null; components: Record<string, number>; failure?: string } | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** What is wrong with a parsed case line, or null. */
function caseProblem(value: PyValue): string | null {
  if (!isObject(value)) return "a case is a JSON object";
  if (typeof value.completion !== "string") return '"completion" must be a string';
  if (value.ground_truth === undefined) return '"ground_truth" is missing';
  const expect = value.expect;
  if (!isObject(expect)) return '"expect" must be an object: {"total"?, "components"?, "failure"?, "tolerance"?}';
  if (expect.total !== undefined && typeof expect.total !== "number") return '"expect.total" must be a number';
  const components = expect.components;
  if (components !== undefined && (!isObject(components) || !Object.values(components).every((v) => typeof v === "number"))) return '"expect.components" must map component names to numbers';
  if (expect.failure !== undefined && typeof expect.failure !== "string") return '"expect.failure" must be a failure kind, e.g. "exception"';
  if (expect.tolerance !== undefined && (typeof expect.tolerance !== "number" || expect.tolerance < 0)) return '"expect.tolerance" must be a number ≥ 0';
  if (expect.total === undefined && components === undefined && expect.failure === undefined) return '"expect" gives nothing to check: add "total", "components" or "failure"';
  return null;
}

/** The reward a case file is for, from its header line: a schedule file (relative to the case file) or a preset. */
export type CaseReward = { schedule: string } | { preset: string; options?: Record<string, unknown> };

function headerReward(value: PyValue): CaseReward | string | null {
  if (!isObject(value) || !("reward" in value) || "completion" in value) return null;
  const reward = value.reward;
  if (isObject(reward) && typeof reward.schedule === "string") return { schedule: reward.schedule };
  if (isObject(reward) && typeof reward.preset === "string") return { preset: reward.preset, ...(isObject(reward.options) ? { options: reward.options as Record<string, unknown> } : {}) };
  return 'the header\'s "reward" must be {"schedule": "file.ts"} or {"preset": "name", "options"?: {…}}';
}

/**
 * Reads a case file; lines that are not cases are problems with their line numbers, the rest are cases.
 * The first line may be a header naming the reward the file is for: {"reward": {"schedule": "s.ts"}}.
 */
export function parseCases(file: string, text: string): { cases: RewardCase[]; problems: CaseProblem[]; reward?: CaseReward } {
  const cases: RewardCase[] = [];
  const problems: CaseProblem[] = [];
  let reward: CaseReward | undefined;
  let first = true;
  text.split("\n").forEach((raw, i) => {
    const line = i + 1;
    if (!raw.trim()) return;
    const isFirst = first;
    first = false;
    let value: PyValue;
    try {
      value = parsePyJson(raw);
    } catch (e) {
      problems.push({ file, line, message: `not valid JSON: ${(e as Error).message}` });
      return;
    }
    const header = headerReward(value);
    if (header !== null) {
      if (typeof header === "string") problems.push({ file, line, message: header });
      else if (!isFirst) problems.push({ file, line, message: "the reward header must be the file's first line" });
      else reward = header;
      return;
    }
    const problem = caseProblem(value);
    if (problem) {
      problems.push({ file, line, message: problem });
      return;
    }
    const { expect, name, ...sample } = value as Record<string, PyValue> & { expect: Record<string, unknown> };
    cases.push({
      file,
      line,
      name: typeof name === "string" ? name : `line ${line}`,
      sample: sample as PyValue,
      expect: {
        ...(expect.total !== undefined ? { total: expect.total as number } : {}),
        ...(expect.components !== undefined ? { components: expect.components as Record<string, number> } : {}),
        ...(expect.failure !== undefined ? { failure: expect.failure as string } : {}),
        tolerance: (expect.tolerance as number | undefined) ?? 1e-6,
      },
    });
  });
  return { cases, problems, ...(reward ? { reward } : {}) };
}

/** Compares a score with a case's expectation. */
export function checkCase(c: RewardCase, score: RewardScore): CaseResult {
  const components: Record<string, number> = {};
  for (const [name, comp] of Object.entries(score.components ?? {})) components[name] = comp.value;
  const actual = { total: score.total, components, ...(score.failure ? { failure: `${score.failure.kind}: ${score.failure.message}` } : {}) };
  const wrong: string[] = [];
  const near = (a: number, b: number) => Math.abs(a - b) <= c.expect.tolerance;
  if (c.expect.failure !== undefined) {
    if (!score.failure) wrong.push(`expected a reward failure (${c.expect.failure}), got a score of ${score.total}`);
    else if (score.failure.kind !== c.expect.failure) wrong.push(`expected a ${c.expect.failure} failure, got ${score.failure.kind}: ${score.failure.message}`);
  } else if (score.failure) {
    wrong.push(`reward failure (${score.failure.kind}): ${score.failure.message}`);
  }
  if (!score.failure) {
    if (c.expect.total !== undefined && (score.total === null || !near(score.total, c.expect.total))) wrong.push(`total ${score.total}, expected ${c.expect.total} ± ${c.expect.tolerance}`);
    for (const [name, value] of Object.entries(c.expect.components ?? {})) {
      if (!(name in components)) wrong.push(`no component "${name}" (it has: ${Object.keys(components).join(", ") || "none"})`);
      else if (!near(components[name] as number, value)) wrong.push(`${name} ${components[name]}, expected ${value} ± ${c.expect.tolerance}`);
    }
  }
  return { file: c.file, line: c.line, name: c.name, ok: wrong.length === 0, message: wrong.join("; "), expected: c.expect, actual };
}
