// Reward test cases: reading case files, checking scores against them, and `rollout-studio test-rewards`
// as a user's CI runs it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { before, describe, it } from "node:test";

import { checkCase, parseCases } from "../../reward/cases";
import type { RewardScore } from "../../reward/score";
import { CLI, ensureBuilt, ROOT, SCHEDULES } from "./helpers";

before(ensureBuilt);

const CASES = path.join(ROOT, "test", "reward", "cases");

function score(total: number | null, components: Record<string, number>, failure?: RewardScore["failure"]): RewardScore {
  return {
    total,
    components: Object.fromEntries(Object.entries(components).map(([k, v]) => [k, { raw: v, weight: 1, value: v, why: "" }])),
    calls: null,
    parseFailure: null,
    failure: failure ?? null,
    version: "v",
  } as RewardScore;
}

describe("reward cases", () => {
  it("reads cases and names each line that is not one", () => {
    const text = ['{"name": "a", "completion": "x", "ground_truth": [], "step": 4, "expect": {"total": 1}}', "", '{"completion": "x", "ground_truth": []}', "[1]", "{bad"].join("\n");
    const { cases, problems } = parseCases("f.jsonl", text);
    assert.deepEqual(cases.map((c) => [c.line, c.name, c.expect]), [[1, "a", { total: 1, tolerance: 1e-6 }]]);
    assert.deepEqual(cases[0]!.sample, { completion: "x", ground_truth: [], step: 4 });
    assert.deepEqual(problems.map((p) => p.line), [3, 4, 5]);
    assert.match(problems[0]!.message, /"expect" must be an object/);
    assert.match(problems[2]!.message, /not valid JSON/);
  });

  it("checks the total and components within the tolerance, and expected failures", () => {
    const [c] = parseCases("f", '{"completion": "x", "ground_truth": [], "expect": {"total": 1, "components": {"format": 0.5}, "tolerance": 0.01}}').cases;
    assert.equal(checkCase(c!, score(1.005, { format: 0.5 })).ok, true);
    const wrong = checkCase(c!, score(0.9, { strict: 1 }));
    assert.equal(wrong.ok, false);
    assert.match(wrong.message, /total 0.9, expected 1 ± 0.01; no component "format" \(it has: strict\)/);
    const failing = checkCase(c!, score(null, {}, { kind: "exception", message: "boom" }));
    assert.match(failing.message, /reward failure \(exception\): boom/);
    const [f] = parseCases("f", '{"completion": "x", "ground_truth": [], "expect": {"failure": "timeout"}}').cases;
    assert.match(checkCase(f!, score(1, {})).message, /expected a reward failure \(timeout\), got a score of 1/);
    assert.match(checkCase(f!, score(null, {}, { kind: "exception", message: "boom" })).message, /expected a timeout failure, got exception/);
  });

  it("test-rewards passes a preset's cases and exits 0", () => {
    const r = spawnSync(process.execPath, [CLI, "test-rewards", path.join(CASES, "tool-n1.reward-cases.jsonl"), "--preset", "tool-n1"], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ok {3}.*tool-n1\.reward-cases\.jsonl:1 {2}exact call: full reward/);
    assert.match(r.stdout.trim().split("\n").pop()!, /^2 passed, 0 failed$/);
  });

  it("test-rewards on a schedule reports each failing case by file and line, and exits 1", () => {
    const r = spawnSync(process.execPath, [CLI, "test-rewards", path.join(CASES, "mixed.reward-cases.jsonl"), "--schedule", path.join(SCHEDULES, "throws.ts")], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 1);
    const lines = r.stdout.trim().split("\n");
    assert.match(lines[0]!, /^ok {3}.*:1 {2}a fine sample scores 1$/);
    assert.match(lines[1]!, /^ok {3}.*:2 {2}BAD is a reward failure$/);
    assert.match(lines[2]!, /^FAIL .*:3 {2}a wrong expectation: total 1, expected 0.5 .*no component "nope"/);
    assert.match(lines[3]!, /^FAIL .*:4 {2}not a reward case/);
    assert.match(lines[4]!, /^FAIL .*:5 {2}not a reward case: a case is a JSON object/);
    assert.match(lines[5]!, /^FAIL .*:6 {2}not a reward case: not valid JSON/);
    assert.equal(lines[6], "2 passed, 4 failed");
    const json = spawnSync(process.execPath, [CLI, "test-rewards", path.join(CASES, "mixed.reward-cases.jsonl"), "--schedule", path.join(SCHEDULES, "throws.ts"), "--format", "json"], { encoding: "utf8", cwd: ROOT });
    const results = json.stdout.trim().split("\n").map((l) => JSON.parse(l) as { line: number; ok: boolean; actual: { total: number } | null });
    assert.deepEqual(results.map((x) => [x.line, x.ok]), [[1, true], [2, true], [3, false], [4, false], [5, false], [6, false]]);
    assert.equal(results[2]!.actual!.total, 1);
  });

  it("a case file's header names its reward, so test-rewards needs no flags", () => {
    const r = spawnSync(process.execPath, [CLI, "test-rewards", path.join(CASES, "with-header.reward-cases.jsonl")], { encoding: "utf8", cwd: ROOT });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout.trim().split("\n").pop()!, /^2 passed, 0 failed$/);
    const misplaced = parseCases("f", ['{"completion": "x", "ground_truth": [], "expect": {"total": 1}}', '{"reward": {"preset": "tool-n1"}}'].join("\n"));
    assert.match(misplaced.problems[0]!.message, /header must be the file's first line/);
    assert.deepEqual(parseCases("f", '{"reward": {"preset": "toolrl", "options": {"coarse": true}}}').reward, { preset: "toolrl", options: { coarse: true } });
  });

  it("test-rewards without a reward or without case files is a usage error", () => {
    const noReward = spawnSync(process.execPath, [CLI, "test-rewards", path.join(CASES, "tool-n1.reward-cases.jsonl")], { encoding: "utf8", cwd: ROOT });
    assert.equal(noReward.status, 2);
    assert.match(noReward.stderr, /give --preset NAME or --schedule FILE/);
    const none = spawnSync(process.execPath, [CLI, "test-rewards", "--preset", "tool-n1"], { encoding: "utf8", cwd: path.join(ROOT, "docs") });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no \*\.reward-cases\.jsonl files here/);
  });
});
