// The playground's sampling in TypeScript against the engine's Python (test/fixtures/playground, made by
// scripts/make-playground-fixtures.py; engine/tests/test_export.py checks them from the Python side).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

import { OnnxPolicy, pickToken, seededRandom } from "../../runs/onnxPolicy";
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
