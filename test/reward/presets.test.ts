import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { trainingTime } from "../../reward/api";
import { makePreset } from "../../reward/presets";
import { correctnessRange, formatRange, type ToolRLOptions } from "../../reward/presets/toolrl";
import { scoreSample } from "../../reward/score";

const score = (preset: string, options: object, completion: string, groundTruth: unknown, step = 0, progress = 0) =>
  scoreSample(makePreset(preset, options as never), { completion, groundTruth }, trainingTime({ step, progress, epoch: progress }), "test");

const N1_TRUTH = [{ name: "play", arguments: { artist: "Nina", shuffle: true } }, { name: "vol", arguments: { level: 40 } }];
const n1 = (body: string, think = true) => `${think ? "<think>ok</think>\n" : ""}<tool_call>\n${body}\n</tool_call>`;
const RIGHT = JSON.stringify(N1_TRUTH);
const NAMES_ONLY = '[{"name": "play", "arguments": {"artist": "Nina"}}, {"name": "vol", "arguments": {"level": 41}}]';

describe("tool-n1 variants", () => {
  const table: [string, string, boolean, number][] = [
    ["partial_reason", RIGHT, true, 1.0],
    ["partial_reason", RIGHT, false, 0.8],
    ["partial_reason", NAMES_ONLY, true, 0.2],
    ["partial_reason", "[{]", true, 0.2],
    ["funcname", NAMES_ONLY, true, 0.4],
    ["funcname", NAMES_ONLY, false, 0.2],
    ["funcname", RIGHT, true, 1.0],
    ["no_reason", RIGHT, false, 1],
    ["no_reason", NAMES_ONLY, true, 0],
    ["lexico", RIGHT, true, 1.2],
    ["lexico", RIGHT, false, 1],
    ["lexico", NAMES_ONLY, true, -0.2],
    ["lexico", NAMES_ONLY, false, 0],
    ["lexico", "[{]", true, 0],
  ];
  for (const [variant, body, think, want] of table) {
    it(`${variant}: ${body === RIGHT ? "right calls" : body === NAMES_ONLY ? "right names only" : "bad JSON"}, ${think ? "with" : "without"} think → ${want}`, () => {
      const s = score("tool-n1", { variant }, n1(body, think), N1_TRUTH);
      assert.equal(s.failure, null);
      assert.equal(s.total, want);
    });
  }
  it("llama template: no tag means an empty prediction, right for an empty ground truth without a think check", () => {
    const llama = (t: string) => `<|start_header_id|>assistant<|end_header_id|>\n${t}<|eot_id|>`;
    assert.equal(score("tool-n1", { template: "llama" }, llama("No tool fits."), []).total, 1);
    assert.equal(score("tool-n1", { template: "llama" }, llama("No tool fits."), N1_TRUTH).total, 0);
    assert.equal(score("tool-n1", { template: "llama" }, llama(n1(RIGHT)), N1_TRUTH).total, 1);
    assert.equal(score("tool-n1", { template: "llama" }, llama(n1(RIGHT, false)), N1_TRUTH).total, 0);
  });
  it("the released code's TypeError on a number payload is a reward failure, not a score", () => {
    const s = score("tool-n1", {}, n1("5"), N1_TRUTH);
    assert.equal(s.total, null);
    assert.equal(s.failure?.kind, "exception");
    assert.match(s.failure?.message ?? "", /raises TypeError/);
    assert.equal(score("tool-n1", {}, n1("5", false), N1_TRUTH).total, 0, "without think the code returns 0 before it raises");
  });
  it("explains a type mismatch", () => {
    const s = score("tool-n1", {}, n1('[{"name": "play", "arguments": {"artist": "Nina", "shuffle": true}}, {"name": "vol", "arguments": {"level": 40.0}}]'), N1_TRUTH);
    assert.equal(s.total, 0);
    assert.match(s.components.calls?.why ?? "", /level is 40\.0 \(float\), expected 40 \(int\)/);
  });
  it("rejects unknown options and impossible combinations with the fix in the message", () => {
    assert.throws(() => makePreset("tool-n1", { varient: "binary" }), /unknown option "varient"; known options: variant, template/);
    assert.throws(() => makePreset("tool-n1", { variant: "fuzzy" }), /variant must be one of binary, no_reason/);
    assert.throws(() => makePreset("tool-n1", { template: "llama", variant: "lexico" }), /only for the binary reward/);
  });
});

const RL_TRUTH = '<think>p</think>\n<tool_call>\n{"name": "f", "parameters": {"a": 1, "b": "x"}}\n{"name": "g", "parameters": {}}\n</tool_call>';
const rl = (lines: string[], think = "<think>ok</think>") => `${think}\n<tool_call>\n${lines.join("\n")}\n</tool_call>`;
const F_RIGHT = '{"name": "f", "parameters": {"a": 1, "b": "x"}}';
const G_RIGHT = '{"name": "g", "parameters": {}}';
const F_WRONG = '{"name": "f", "parameters": {"a": 2, "b": "x"}}';

describe("toolrl variants", () => {
  const opts = (o: Partial<ToolRLOptions> = {}): ToolRLOptions => ({ template: "qwen", equal_max: false, two_stage: false, dynamic_scale: false, fine_grained: false, intermediate: false, coarse: false, length: "off", ...o });
  it("dynamic scale follows the paper's table", () => {
    // papers.md §1.5: t=1 → format [−1.99, 1.99], correctness [−2.01, 2.01]; t=30 → [−1.6, 1.8], [−2.2, 2.2]; t=75 → [−1, 1.5], [−2.5, 2.5]; t=105 → [−1, 1.3], [−2.7, 2.7].
    const expect: [number, [number, number], [number, number]][] = [[1, [-1.99, 1.99], [-2.01, 2.01]], [30, [-1.6, 1.8], [-2.2, 2.2]], [75, [-1, 1.5], [-2.5, 2.5]], [105, [-1, 1.3], [-2.7, 2.7]], [400, [-1, 1], [-3, 3]]];
    for (const [t, f, c] of expect) {
      const fr = formatRange(opts({ dynamic_scale: true }), t);
      const cr = correctnessRange(opts({ dynamic_scale: true }), t);
      for (let i = 0; i < 2; i++) {
        assert.ok(Math.abs((fr[i] as number) - (f[i] as number)) < 0.005, `format at ${t}: ${fr}`);
        assert.ok(Math.abs((cr[i] as number) - (c[i] as number)) < 0.005, `correctness at ${t}: ${cr}`);
      }
    }
  });
  it("two-stage switches at step 30", () => {
    assert.deepEqual(correctnessRange(opts({ two_stage: true }), 29), [-1, 1]);
    assert.deepEqual(correctnessRange(opts({ two_stage: true }), 30), [-3, 3]);
    assert.deepEqual(formatRange(opts({ two_stage: true }), 29), [0, 1]);
    assert.deepEqual(formatRange(opts({ two_stage: true }), 30), [0, 0.5]);
    const early = score("toolrl", { two_stage: true }, rl([F_RIGHT, G_RIGHT]), RL_TRUTH, 10);
    const late = score("toolrl", { two_stage: true }, rl([F_RIGHT, G_RIGHT]), RL_TRUTH, 40);
    assert.deepEqual([early.components.format?.value, early.components.correctness?.value], [1, 1]);
    assert.deepEqual([late.components.format?.value, late.components.correctness?.value], [0.5, 3]);
  });
  it("default partial credit: name Jaccard + key Jaccard + equal values over 1 + Σ(1 + |params|)", () => {
    // S = 1 (names) + (1 + 1) for f (keys, one value) + 1 for g (keys; no params) = 4; S_max = 1 + 3 + 1 = 5.
    const s = score("toolrl", {}, rl([F_WRONG, G_RIGHT]), RL_TRUTH);
    assert.equal(s.components.correctness?.value, (6 * 4) / 5 - 3);
  });
  it("equal max, fine-grained, intermediate and coarse", () => {
    assert.equal(score("toolrl", { equal_max: true }, rl([F_WRONG, G_RIGHT]), RL_TRUTH).components.correctness?.value, (2 * 4) / 5 - 1);
    // Fine-grained: key lists must be identical in order; reversing f's keys loses f's key credit.
    const reversed = '{"name": "f", "parameters": {"b": "x", "a": 2}}';
    assert.equal(score("toolrl", { fine_grained: true }, rl([reversed, G_RIGHT]), RL_TRUTH).components.correctness?.value, (6 * (1 + 0 + 1 + 1)) / 5 - 3);
    // Intermediate: 1 per exactly matched call, S_max = 1 + |G| = 3: S = 1 (names) + 1 (g) = 2.
    assert.equal(score("toolrl", { intermediate: true }, rl([F_WRONG, G_RIGHT]), RL_TRUTH).components.correctness?.value, (6 * 2) / 3 - 3);
    // Coarse: anything but the exact ordered list is the minimum, even a reordering.
    assert.equal(score("toolrl", { coarse: true }, rl([G_RIGHT, F_RIGHT]), RL_TRUTH).components.correctness?.value, -3);
    assert.equal(score("toolrl", {}, rl([G_RIGHT, F_RIGHT]), RL_TRUTH).components.correctness?.value, 3);
  });
  it("length reward counts think words against 512, or the dynamic target", () => {
    const think = `<think>${"w ".repeat(64)}</think>`;
    const fixed = score("toolrl", { length: "fixed" }, rl([F_RIGHT, G_RIGHT], think), RL_TRUTH);
    assert.equal(fixed.components.length?.value, 0.12); // round(64/512 = 0.125, 2) → 0.12 (ties to even)
    assert.equal(fixed.total, 1 + 3 + 0.12);
    const dynamic = score("toolrl", { length: "dynamic" }, rl([F_RIGHT, G_RIGHT], think), RL_TRUTH, 105);
    assert.equal(dynamic.components.length?.value, 0.1); // 64 / 640
    assert.equal(score("toolrl", { length: "fixed" }, rl([F_RIGHT, G_RIGHT], ""), RL_TRUTH).components.length?.value, 0);
  });
  it("a ground truth with only a response gives correctness 0 and needs think + response", () => {
    const truth = "<think>p</think>\n<response>Sorry.</response>";
    assert.deepEqual(Object.values(score("toolrl", {}, "<think>no tool</think>\n<response>Sorry.</response>", truth).components).map((c) => c.value), [1, 0]);
    const spurious = score("toolrl", {}, rl([F_RIGHT]), truth);
    assert.equal(spurious.total, 0);
  });
  it("names the JSON Lines line that failed", () => {
    const s = score("toolrl", {}, rl([F_RIGHT, '{"name": "g", "parameters": {}']), RL_TRUTH);
    assert.equal(s.components.correctness?.value, -3);
    assert.equal(s.parseFailure?.reason, "bad_json");
    assert.match(s.parseFailure?.message ?? "", /^line 2 of the tool call/);
  });
  it("a broken ground truth is a reward failure, not a score: bad input naming the field", () => {
    const s = score("toolrl", {}, rl([F_RIGHT]), "<tool_call>\n{not json}\n</tool_call>");
    assert.equal(s.total, null);
    assert.equal(s.failure?.kind, "bad_input");
    assert.equal(s.failure?.field, "ground_truth");
    assert.match(s.failure?.message ?? "", /^field "ground_truth" must be ToolRL's target string or a list of calls; its <tool_call> block is not JSON Lines: line 1/);
  });
  it("a ground truth of the wrong type is bad input, with each preset", () => {
    for (const [preset, expected] of [["tool-n1", 'a list of {"name", "arguments"} calls or its JSON text'], ["toolrl", "ToolRL's target string or a list of calls"], ["tool-zero", 'a list of {"name", "arguments"} calls, their JSON text']] as const) {
      for (const [truth, got] of [[5, "got a number"], [true, "got a boolean"], [null, "got null"]] as const) {
        const s = score(preset, {}, "<think>x</think><tool_call>[]</tool_call>", truth);
        assert.equal(s.failure?.kind, "bad_input", `${preset} ${String(truth)}`);
        assert.equal(s.failure?.field, "ground_truth");
        assert.ok(s.failure?.message.startsWith(`field "ground_truth" must be ${expected}`), s.failure?.message);
        assert.ok(s.failure?.message.endsWith(got), s.failure?.message);
      }
      assert.equal(score(preset, {}, "<think>x</think><tool_call>[]</tool_call>", { x: 1 }).failure?.kind, "bad_input", `${preset} object`);
      assert.equal(score(preset, {}, "<think>x</think><tool_call>[]</tool_call>", [1, 2]).failure?.kind, "bad_input", `${preset} list of numbers`);
    }
  });
});

describe("tool-zero", () => {
  const truth = [{ name: "news", arguments: { topic: "electric cars", n: 5 } }];
  const tz = (body: string) => `<think>find news</think>\n<tool_call>\n${body}\n</tool_call>`;
  it("weights strict by σ(t) = 1/(1+e^(−0.1(t−25))) and general by 1 − σ(t)", () => {
    // papers.md §3.3: 0.076 at t=0, 0.18 at 10, 0.50 at 25, 0.82 at 40, 0.92 at 50.
    for (const [t, w] of [[0, 0.076], [10, 0.182], [25, 0.5], [40, 0.818], [50, 0.924]] as const) {
      const s = score("tool-zero", {}, tz('[{"name": "news", "arguments": {"topic": "electric cars", "n": 5}}]'), truth, t);
      assert.ok(Math.abs((s.components.strict?.weight ?? 0) - w) < 0.001, `σ(${t}) = ${s.components.strict?.weight}`);
      assert.ok(Math.abs((s.components.strict?.weight ?? 0) + (s.components.general?.weight ?? 0) - 1) < 1e-12);
      assert.ok(Math.abs((s.total ?? 0) - (1 + w * 1 + (1 - w) * 0.5)) < 0.001);
    }
  });
  it("t can count epochs or percent of training", () => {
    const body = tz('[{"name": "news", "arguments": {"topic": "electric cars", "n": 5}}]');
    assert.equal(score("tool-zero", { unit: "percent" }, body, truth, 999, 0.25).components.strict?.weight, 0.5);
    assert.equal(score("tool-zero", { unit: "epoch", midpoint: 2 }, body, truth, 999, 2).components.strict?.weight, 0.5);
  });
  it("strict: bonus for several right calls, penalty for a wrong value with the right functions", () => {
    const two = [...truth, { name: "stock", arguments: { symbol: "NVDA" } }];
    const both = score("tool-zero", {}, tz(JSON.stringify(two)), two, 1000);
    assert.equal(both.components.strict?.raw, 1.3);
    const wrongValue = score("tool-zero", {}, tz('[{"name": "news", "arguments": {"topic": "electric vehicles", "n": 5}}]'), truth, 1000);
    assert.equal(wrongValue.components.strict?.raw, -0.3);
    const wrongFunction = score("tool-zero", {}, tz('[{"name": "stock", "arguments": {"symbol": "x"}}]'), truth, 1000);
    assert.equal(wrongFunction.components.strict?.raw, 0);
  });
  it("general: token recall − 0.5, credit for a partly right call, floor without an answer", () => {
    // Reference tokens: news, topic, electric, cars, n, 5 → 5 of 6 present.
    const partial = score("tool-zero", {}, tz('[{"name": "news", "arguments": {"topic": "electric vehicles", "n": 5}}]'), truth);
    assert.ok(Math.abs((partial.components.general?.raw ?? 0) - (5 / 6 - 0.5)) < 1e-12);
    // Even malformed JSON earns overlap credit early in training.
    const malformed = score("tool-zero", {}, tz('news topic: "electric cars" n=5'), truth);
    assert.equal(malformed.components.general?.raw, 0.5);
    assert.equal(malformed.parseFailure?.reason, "bad_json");
    assert.equal(score("tool-zero", {}, "I don't know", truth).components.general?.raw, -0.5);
  });
  it("format: think before the answer block, once each", () => {
    assert.equal(score("tool-zero", {}, tz("[]"), []).components.format?.raw, 1);
    assert.equal(score("tool-zero", {}, '<tool_call>[]</tool_call><think>x</think>', []).components.format?.raw, 0);
    assert.equal(score("tool-zero", { answer_tag: "answer" }, "<think>x</think><answer>[]</answer>", []).components.format?.raw, 1);
  });
});
