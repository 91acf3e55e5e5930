// `rollout-studio score` as a user runs it: JSON Lines in, JSON Lines out, clear errors, honest exit codes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { before, describe, it } from "node:test";
import { CLI, ensureBuilt, ROOT, SCHEDULES } from "../reward/helpers";
import { readFixture, sharedFixture } from "../reward/fixtures";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

before(ensureBuilt);

function run(args: string[], input: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: "utf8", cwd: ROOT });
  return { code: r.status, out: r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { [k: string]: unknown }), err: r.stderr };
}

describe("rollout-studio score", () => {
  it("scores the Tool-N1 fixtures in input order with exit code 0", () => {
    const rows = readFixture("fixtures/rewards/tool-n1-fixtures.jsonl");
    const r = run(["score", "--preset", "tool-n1"], readFileSync(sharedFixture("fixtures/rewards/tool-n1-fixtures.jsonl"), "utf8"));
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.map((o) => o.id), rows.map((x) => x.id));
    assert.deepEqual(r.out.map((o) => o.reward), rows.map((x) => Number(x.gold)));
  });
  it("gives ToolRL's components by name", () => {
    const r = run(["score", "--preset", "toolrl"], readFileSync(sharedFixture("fixtures/rewards/toolrl-fixtures.jsonl"), "utf8"));
    assert.equal(r.code, 0, r.err);
    const first = r.out[0] as { components: { format: number; correctness: number } };
    assert.deepEqual(Object.keys(first.components), ["format", "correctness"]);
  });
  it("reports each bad line on stderr by number, writes a failure record for it, scores the rest, and exits 1", () => {
    const good = JSON.stringify({ id: "g", completion: '<think>x</think><tool_call>[]</tool_call>', ground_truth: [] });
    const input = [good, "{not json", JSON.stringify({ id: "m", ground_truth: [] }), JSON.stringify({ id: "s", completion: "x", ground_truth: [], step: -1 }), good].join("\n");
    const r = run(["score", "--preset", "tool-n1"], input);
    assert.equal(r.code, 1);
    assert.deepEqual(r.out.map((o) => o.reward), [1, null, null, null, 1]);
    assert.match(r.err, /line 2: not valid JSON: Expecting property name/);
    assert.match(r.err, /line 3: missing field "completion"/);
    assert.match(r.err, /line 4: field "step" must be a non-negative number/);
    assert.equal((r.out[2]?.failure as { kind: string }).kind, "bad_input");
    assert.equal(r.out[2]?.id, "m");
  });
  it("uses each line's step", () => {
    const truth = '<think>p</think>\n<tool_call>\n{"name": "f", "parameters": {}}\n</tool_call>';
    const line = (step: number) => JSON.stringify({ id: String(step), completion: "nothing", ground_truth: truth, step });
    const r = run(["score", "--preset", "toolrl", "--option", "two_stage=true"], [line(10), line(40)].join("\n"));
    assert.deepEqual(r.out.map((o) => (o.components as { correctness: number }).correctness), [-1, -3]);
  });
  it("scores with a schedule file, explains, and reports reward failures with exit 1", () => {
    const input = [
      JSON.stringify({ id: "a", completion: '<think>x</think><tool_call>[{"name": "f", "arguments": {}}]</tool_call>', ground_truth: [{ name: "f", arguments: {} }] }),
      JSON.stringify({ id: "b", completion: "BAD", ground_truth: [] }),
    ].join("\n");
    const good = run(["score", "--schedule", path.join(SCHEDULES, "good.ts"), "--explain"], input);
    assert.equal(good.code, 0, good.err);
    assert.equal(good.out[0]?.reward, 2);
    assert.deepEqual(good.out[0]?.why, { format: "has <think>", exact: "exact" });
    const throwing = run(["score", "--schedule", path.join(SCHEDULES, "throws.ts")], input);
    assert.equal(throwing.code, 1);
    assert.equal((throwing.out[1]?.failure as { kind: string }).kind, "exception");
    assert.match(throwing.err, /line 2: component "picky" threw: cannot score this one/);
  });
  it("reports a ground truth of the wrong type as bad input naming the field, for a preset and a schedule file", () => {
    const input = [
      JSON.stringify({ id: "n", completion: "<think>x</think><tool_call>[]</tool_call>", ground_truth: 5 }),
      JSON.stringify({ id: "o", completion: "<think>x</think><tool_call>[]</tool_call>", ground_truth: { x: 1 } }),
      JSON.stringify({ id: "g", completion: "<think>x</think><tool_call>[]</tool_call>", ground_truth: [] }),
    ].join("\n");
    for (const args of [["--preset", "toolrl"], ["--preset", "tool-n1"], ["--schedule", path.join(SCHEDULES, "good.ts")]]) {
      const r = run(["score", ...args], input);
      assert.equal(r.code, 1, args.join(" "));
      assert.deepEqual(r.out.map((o) => (o.failure as { kind: string; field?: string } | undefined) ?? null).map((f) => f && [f.kind, f.field]), [["bad_input", "ground_truth"], ["bad_input", "ground_truth"], null], args.join(" "));
      assert.match(r.err, /^rollout-studio score: line 1: field "ground_truth" must be .*; got a number$/m, args.join(" "));
    }
  });
  it("keeps a schedule's output out of the scores it writes: in each line's logs, and labelled on stderr", () => {
    const input = [JSON.stringify({ id: "a", completion: "x", ground_truth: [] }), JSON.stringify({ id: "b", completion: "LATER", ground_truth: [] })].join("\n");
    const r = run(["score", "--schedule", path.join(SCHEDULES, "prints.ts")], input);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.map((o) => o.reward), [1, 1]);
    assert.deepEqual((r.out[1]?.logs as { stream: string; text: string }[])[1], { stream: "stderr", text: "warn b\nerror b\n" });
    assert.match(r.err, /^\[schedule [0-9a-f]{12} stdout, while loading\] loading the printing schedule$/m);
  });
  it("explains usage errors with exit code 2", () => {
    const unknownPreset = run(["score", "--preset", "tool-one"], "");
    assert.equal(unknownPreset.code, 2);
    assert.match(unknownPreset.err, /unknown preset "tool-one"; presets: tool-n1, toolrl, tool-zero/);
    const badOption = run(["score", "--preset", "toolrl", "--option", "scale=2"], "");
    assert.equal(badOption.code, 2);
    assert.match(badOption.err, /unknown option "scale"; known options: template, equal_max/);
    assert.equal(run(["score"], "").code, 2);
    const broken = run(["score", "--schedule", path.join(SCHEDULES, "broken.ts")], "");
    assert.equal(broken.code, 1);
    assert.match(broken.err, /broken\.ts:5:/);
  });
});

describe("rollout-studio push", () => {
  it("says in one line that no engine is running the run, and how to start one, with exit code 1", () => {
    const runDir = mkdtempSync(path.join(tmpdir(), "rs-push-"));
    cpSync(path.join(ROOT, "test", "fixtures", "run-small"), runDir, { recursive: true });
    const r = spawnSync(process.execPath, [CLI, "push", "--run", runDir, "--schedule", path.join(SCHEDULES, "good.ts")], { encoding: "utf8", cwd: ROOT });
    rmSync(runDir, { recursive: true, force: true });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr); // no stack trace
    assert.match(lines[0] ?? "", new RegExp(`^rollout-studio: no engine is running ${runDir}: .*Start one with \`rollout-studio train --config RUN\\.toml --run-dir ${runDir} --resume\``));
  });
});
