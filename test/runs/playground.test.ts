// The playground's sampling in TypeScript against the engine's Python (test/fixtures/playground, made by
// scripts/make-playground-fixtures.py; engine/tests/test_export.py checks them from the Python side).
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";

import type { HfTokenizer } from "../../runs/hfTokenizer";
import { OnnxPolicy, pickToken, seededRandom } from "../../runs/onnxPolicy";
import { checkpointForStep, datasetPrompts, ensureExport, listCheckpoints, parsePromptFields, PolicyCache, runReward, sampleAndScore } from "../../runs/playground";
import { promptMessages, renderPlain, type Template } from "../../runs/prompts";
import { TinyTokenizer } from "../../runs/tinyTokenizer";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures", "playground");
const cases = JSON.parse(fs.readFileSync(path.join(FIXTURES, "cases.json"), "utf8")) as {
  tokenizer: string;
  texts: { text: string; ids: number[]; decoded: string }[];
  prompts: { sample: { tools: unknown[]; messages: { role: string; content: string }[] }; template: Template; text: string; ids: number[] }[];
};

describe("the tiny tokenizer in TypeScript", () => {
  const tokenizer = TinyTokenizer.load(path.join(ROOT, cases.tokenizer));
  it("gives the engine's ids for every fixture text, and decodes them back", () => {
    for (const c of cases.texts) {
      assert.deepEqual(tokenizer.encode(c.text), c.ids, c.text);
      assert.equal(tokenizer.decode(c.ids), c.decoded);
    }
  });
  it("renders every template's prompt as the engine does, with the same ids", () => {
    assert.ok(cases.prompts.length >= 16);
    for (const p of cases.prompts) {
      const text = renderPlain(promptMessages(p.sample, p.template), p.template);
      assert.equal(text, p.text, `${p.template}: ${p.sample.messages.at(-1)?.content}`);
      assert.deepEqual(tokenizer.encode(text), p.ids);
    }
  });
});

describe("sampling with onnxruntime-node", () => {
  const logits = JSON.parse(fs.readFileSync(path.join(FIXTURES, "tiny", "logits.json"), "utf8")) as {
    prompt_ids: number[];
    first_logits: number[];
    next_id: number;
    second_logits: number[];
  };
  const close = (got: Float32Array, want: number[]) => {
    assert.equal(got.length, want.length);
    let worst = 0;
    want.forEach((w, i) => (worst = Math.max(worst, Math.abs(got[i]! - w))));
    assert.ok(worst < 1e-4, `largest difference from PyTorch's logits: ${worst}`);
  };

  it("gives PyTorch's next-token logits, on the prompt and after a cached step", async () => {
    const policy = await OnnxPolicy.load(path.join(FIXTURES, "tiny"));
    const first = await policy.step([logits.prompt_ids, logits.prompt_ids], 0, null);
    close(first.logits.subarray(0, policy.info.vocab_size), logits.first_logits);
    close(first.logits.subarray(policy.info.vocab_size), logits.first_logits); // both rows
    const second = await policy.step([[logits.next_id], [logits.next_id]], logits.prompt_ids.length, first.cache);
    close(second.logits.subarray(0, policy.info.vocab_size), logits.second_logits);
  });

  it("samples N answers from a seed: the same seed gives the same answers, greedy gives the argmax path", async () => {
    const policy = await OnnxPolicy.load(path.join(FIXTURES, "tiny"));
    const prompt = logits.prompt_ids;
    const options = { n: 4, maxNewTokens: 12, temperature: 1, topP: 0.95, seed: 11 };
    const a = await policy.sample(prompt, options);
    const b = await policy.sample(prompt, options);
    assert.deepEqual(a, b);
    assert.equal(a.length, 4);
    assert.ok(new Set(a.map((s) => s.tokens.join(","))).size > 1, "four samples, not one repeated");
    assert.ok(a.every((s) => (s.finish === "stop" ? s.tokens.length < 12 : s.tokens.length === 12) && !s.tokens.includes(policy.info.eos_id)));
    const other = await policy.sample(prompt, { ...options, seed: 12 });
    assert.notDeepEqual(other.map((s) => s.tokens), a.map((s) => s.tokens));
    const greedy = await policy.sample(prompt, { ...options, n: 2, temperature: 0 });
    assert.deepEqual(greedy[0]!.tokens, greedy[1]!.tokens);
    assert.equal(greedy[0]!.tokens[0], logits.next_id); // the first greedy token is PyTorch's argmax
  });

  it("keeps to the top-p nucleus", () => {
    const row = Float32Array.from([5, 4.9, -10, -10, -10]);
    const random = seededRandom(1);
    const picks = new Set(Array.from({ length: 200 }, () => pickToken(row, 1, 0.9, random)));
    assert.deepEqual([...picks].sort(), [0, 1]);
    assert.equal(pickToken(row, 0, 1, random), 0);
  });
});

describe("the playground's sampling and scoring", () => {
  const CLI = path.join(ROOT, "dist", "cli.cjs");
  const made: string[] = [];
  after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  /** A run whose base is the shipped tiny base, with no checkpoint on disk (the fixture run's are listed only). */
  function baseRun(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-playground-"));
    made.push(dir);
    const info = JSON.parse(fs.readFileSync(path.join(ROOT, "test", "fixtures", "run-small", "run.json"), "utf8"));
    info.base = path.join(ROOT, "engine", "base");
    info.config.data = { ...info.config.data, train: path.join(ROOT, "test", "fixtures", "playground", "prompts.jsonl"), eval: [] };
    info.config.reward = { preset: null, schedule: path.join(ROOT, "demo", "reward-schedule.ts"), options: {} };
    fs.writeFileSync(path.join(dir, "run.json"), JSON.stringify(info));
    return dir;
  }

  it("lists the base and the checkpoints, and finds the one that wrote a step's samples", () => {
    const dir = baseRun();
    const listed = listCheckpoints(dir);
    assert.deepEqual(listed.map((c) => c.id), ["base", "step-2", "step-3"]);
    assert.equal(checkpointForStep(listed, 1)?.id, "base"); // step 1 was sampled before any update
    assert.equal(checkpointForStep(listed, 3)?.id, "step-2");
    assert.equal(checkpointForStep(listed, 4)?.id, "step-3");
    assert.equal(checkpointForStep(listed, 9), null);
  });

  it("says which field is wrong in what the user typed", () => {
    assert.throws(() => parsePromptFields({ tools: "[{name: 1}]", groundTruth: "" }), /^Error: Tools: not JSON/);
    assert.throws(() => parsePromptFields({ tools: '[{"description": "x"}]', groundTruth: "" }), /Tools: expected a JSON list of tool schemas, each with a "name"/);
    assert.throws(() => parsePromptFields({ tools: "[]", groundTruth: '[{"name": "f"}]' }), /Ground truth: call 1 must be/);
    assert.deepEqual(parsePromptFields({ tools: "[]", groundTruth: " " }), { tools: [], groundTruth: null });
  });

  it("exports the base with the engine, samples 4 answers in the extension's way and scores each with the demo schedule", async (t) => {
    const chosen = path.join(ROOT, ".rollout-studio", "python");
    if (!fs.existsSync(chosen)) return t.skip("no engine Python chosen yet: run bash scripts/setup.sh");
    if (!fs.existsSync(CLI)) return t.skip("dist/cli.cjs is not built: npm run build");
    const dir = baseRun();
    const [base] = listCheckpoints(dir);
    const folder = await ensureExport(dir, base!, { python: fs.readFileSync(chosen, "utf8").trim(), root: ROOT });
    assert.equal(folder, path.join(dir, "exports", "base"));
    const exported = JSON.parse(fs.readFileSync(path.join(folder, "export.json"), "utf8")) as { source: string };
    assert.equal(exported.source, "base");
    const written = fs.statSync(path.join(folder, "model.onnx")).mtimeMs;
    assert.equal(await ensureExport(dir, base!, { python: "/nonexistent/python", root: ROOT }), folder, "an export already there is used as it is");
    assert.equal(fs.statSync(path.join(folder, "model.onnx")).mtimeMs, written);

    const { prompts } = datasetPrompts(dir);
    const sample = prompts[0]!;
    const policy = await new PolicyCache().get(folder);
    const prompt = { tools: sample.tools, messages: sample.messages, groundTruth: sample.groundTruth, template: "tool-zero" as const };
    const reward = { args: ["--schedule", path.join(ROOT, "demo", "reward-schedule.ts")], label: "reward-schedule.ts" };
    const options = { n: 4, maxNewTokens: 80, temperature: 1, topP: 1, seed: 3 };
    const result = await sampleAndScore(policy, base!, prompt, options, reward, { cli: CLI, template: "tool-zero" });
    assert.equal(result.answers.length, 4);
    assert.ok(result.promptTokens > 20);
    for (const a of result.answers) {
      assert.equal(typeof a.reward, "number", a.failure);
      assert.ok(a.components.length >= 2 && a.components.every((c) => Number.isFinite(c.value) && c.why.length > 0), JSON.stringify(a.components));
      assert.ok(a.calls !== null || a.parseFailure, "each answer either has the calls the reward read or says why they did not parse");
      assert.match(a.reward_version, /^[0-9a-f]{8,}/);
    }
    // The same seed gives the same answers and scores; greedy, in its own layout, the base calls a listed tool.
    const again = await sampleAndScore(policy, base!, prompt, options, reward, { cli: CLI, template: "tool-zero" });
    assert.deepEqual(again.answers, result.answers);
    const greedy = await sampleAndScore(policy, base!, { ...prompt, template: "documentation" }, { ...options, n: 1, temperature: 0 }, reward, { cli: CLI, template: "documentation" });

    // The reward being edited: an unsaved buffer of the run's schedule scores the answers, not the file.
    const file = path.join(ROOT, "demo", "reward-schedule.ts");
    assert.deepEqual(runReward(dir, [{ file, dirty: false, text: () => "" }]).args, ["--schedule", file]);
    const edited = fs.readFileSync(file, "utf8").replace("const FORMAT = 0.2;", "const FORMAT = 0.5;");
    const buffer = runReward(dir, [{ file, dirty: true, text: () => edited }]);
    assert.equal(buffer.label, "reward-schedule.ts (unsaved buffer)");
    const fromBuffer = await sampleAndScore(policy, base!, prompt, options, buffer, { cli: CLI, template: "tool-zero" });
    const format = (r: typeof result, scale = 1) => r.answers.map((a) => Number((a.components.find((c) => c.name === "format")!.value * scale).toFixed(9)));
    assert.deepEqual(fromBuffer.answers.map((a) => a.text), result.answers.map((a) => a.text), "the same answers (same seed)");
    assert.ok(format(result).some((v) => v > 0), "some answer earns format credit, so the weight shows");
    assert.deepEqual(format(fromBuffer), format(result, 0.5 / 0.2), "format weighed as the buffer says");
    assert.notEqual(fromBuffer.answers[0]!.reward_version, result.answers[0]!.reward_version);
    assert.deepEqual(fs.readdirSync(path.dirname(file)).filter((f) => f.includes(".preview-")), [], "the buffer's copy is removed");

    const named = greedy.answers[0]!.calls?.map((c) => c.name) ?? [];
    assert.ok(named.length && named.every((name) => sample.tools.some((tool) => (tool as { name: string }).name === name)), `the base's greedy answer in its own layout: ${greedy.answers[0]!.text}`);
  });
});

describe("an hf model's export in the extension host", () => {
  const HF = path.join(FIXTURES, "hf");
  const hf = JSON.parse(fs.readFileSync(path.join(HF, "cases.json"), "utf8")) as {
    texts: { text: string; ids: number[]; decoded: string }[];
    prompts: { sample: { tools: unknown[]; messages: { role: string; content: string }[] }; template: Template; ids: number[] }[];
    logits: { prompt_ids: number[]; first_logits: number[]; next_id: number; second_logits: number[] };
  };

  it("tokenizes texts and every template's prompt as the engine's hf backend does (its chat template for tool-n1 and toolrl)", async () => {
    const policy = await OnnxPolicy.load(path.join(HF, "export"));
    const tokenizer = policy.tokenizer as HfTokenizer;
    for (const c of hf.texts) {
      assert.deepEqual(tokenizer.encode(c.text), c.ids, c.text);
      assert.equal(tokenizer.decode(c.ids), c.decoded);
    }
    assert.equal(hf.prompts.length, 12);
    for (const p of hf.prompts) assert.deepEqual(policy.encodePrompt(p.sample, p.template), p.ids, `${p.template}: ${p.sample.messages.at(-1)?.content}`);
    assert.match(tokenizer.decode(hf.prompts.find((p) => p.template === "tool-n1")!.ids), /<\|im_start\|>assistant\n$/);
  });

  it("gives PyTorch's next-token logits, on the prompt and after a cached step, and samples from a seed", async () => {
    const policy = await OnnxPolicy.load(path.join(HF, "export"));
    const { logits } = hf;
    const first = await policy.step([logits.prompt_ids], 0, null);
    const worst = (got: Float32Array, want: number[]) => want.reduce((m, w, i) => Math.max(m, Math.abs(got[i]! - w)), 0);
    assert.equal(first.logits.length, logits.first_logits.length);
    assert.ok(worst(first.logits, logits.first_logits) < 1e-4);
    const second = await policy.step([[logits.next_id]], logits.prompt_ids.length, first.cache);
    assert.ok(worst(second.logits, logits.second_logits) < 1e-4);
    const options = { n: 3, maxNewTokens: 8, temperature: 1, topP: 1, seed: 5 };
    assert.deepEqual(await policy.sample(logits.prompt_ids, options), await policy.sample(logits.prompt_ids, options));
  });
});
