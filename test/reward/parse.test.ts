import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCompletion, parseGroundTruth, parsePythonCalls, stripChatTemplate, isParseFailure, tagBlocks, type ParseFailure } from "../../reward/parse";
import { isPyFloatObject } from "../../reward/pyjson";

const call = (name: string, args: object) => ({ name, arguments: args });

describe("chat templates", () => {
  it("takes the last Qwen assistant turn up to <|im_end|>", () => {
    const text = "<|im_start|>user\n<think>not mine</think><|im_end|>\n<|im_start|>assistant\n<think>mine</think>\n<|im_end|>\n<|endoftext|>";
    assert.equal(stripChatTemplate(text), "<think>mine</think>");
  });
  it("takes the last Llama 3 assistant turn up to <|eot_id|>", () => {
    const text = "<|start_header_id|>user<|end_header_id|>\nq<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nanswer<|eot_id|>";
    assert.equal(stripChatTemplate(text), "answer");
  });
  it("leaves a base model's plain completion as it is, stripped", () => {
    assert.equal(stripChatTemplate("  plain text \n"), "plain text");
  });
});

describe("tool-call styles", () => {
  it("Tool-N1: the last block's JSON list of {name, arguments}", () => {
    const p = parseCompletion('<think>x</think><tool_call>[]</tool_call><tool_call>[{"name": "f", "arguments": {"a": 1}}]</tool_call>', { style: "json-list" });
    assert.deepEqual(p.calls, [call("f", { a: 1 })]);
    assert.equal(p.think, "x");
    assert.equal(p.style, "json-list");
  });
  it("Tool-N1: wraps one object and reads a JSON string payload again", () => {
    assert.deepEqual(parseCompletion('<tool_call>{"name": "f", "arguments": {}}</tool_call>').calls, [call("f", {})]);
    assert.deepEqual(parseCompletion('<tool_call>"[{\\"name\\": \\"f\\", \\"arguments\\": {\\"a\\": 2}}]"</tool_call>').calls, [call("f", { a: 2 })]);
  });
  it("ToolRL: JSON Lines of {name, parameters}, with a <response>", () => {
    const p = parseCompletion('<think>t</think>\n<tool_call>\n{"name": "f", "parameters": {"a": 1}}\n{"name": "g", "parameters": {}}\n</tool_call>\n<response>done</response>');
    assert.equal(p.style, "jsonl");
    assert.deepEqual(p.calls, [call("f", { a: 1 }), call("g", {})]);
    assert.equal(p.response, "done");
  });
  it("Hermes/Qwen: one JSON object in each of several blocks", () => {
    const p = parseCompletion('<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>\n<tool_call>\n{"name": "g", "arguments": {"b": "x"}}\n</tool_call>');
    assert.equal(p.style, "hermes");
    assert.deepEqual(p.calls, [call("f", { a: 1 }), call("g", { b: "x" })]);
  });
  it("Python call syntax, in a tag or bare, as BFCL and ToolACE write it", () => {
    const p = parseCompletion("<tool_call>[get_weather(city=\"Paris\", days=3), search(q='x', n=None, exact=True, w=2.0, tags=['a', \"b\"], opt={'k': (1, 2)})]</tool_call>");
    assert.equal(p.style, "python");
    assert.deepEqual(p.calls?.[0], call("get_weather", { city: "Paris", days: 3 }));
    const second = p.calls?.[1]?.arguments as Record<string, unknown>;
    assert.equal(second.q, "x");
    assert.equal(second.n, null);
    assert.equal(second.exact, true);
    assert.ok(isPyFloatObject(second.w));
    assert.deepEqual(second.tags, ["a", "b"]);
    assert.deepEqual(second.opt, { k: [1, 2] });
    assert.deepEqual(parseCompletion("<think>ok</think> math.factorial(n=5)").calls, [call("math.factorial", { n: 5 })]);
  });
  it("reads OpenAI-style string arguments", () => {
    assert.deepEqual(parseCompletion('<tool_call>{"name": "f", "arguments": "{\\"a\\": 1}"}</tool_call>').calls, [call("f", { a: 1 })]);
  });
  it("finds blocks as Python's re.finditer does", () => {
    assert.deepEqual(tagBlocks("<t>a</t><t>b<t>c</t>", "t").map((b) => b.content), ["a", "b<t>c"]);
  });
});

describe("parse failures have a reason code", () => {
  const cases: [string, string, ParseFailure["reason"]][] = [
    ["empty", "   ", "empty"],
    ["no tag", "<think>x</think> I would call get_time.", "no_tag"],
    ["unclosed tag", '<tool_call>[{"name": "f", "arguments": {}}]', "unclosed_tag"],
    ["bad JSON", '<tool_call>[{"name": "f", "arguments": {]</tool_call>', "bad_json"],
    ["not a list of calls", "<tool_call>42</tool_call>", "not_a_list"],
    ["item not an object", '<tool_call>["f"]</tool_call>', "not_a_call"],
    ["missing name", '<tool_call>[{"arguments": {}}]</tool_call>', "missing_name"],
    ["missing arguments", '<tool_call>[{"name": "f"}]</tool_call>', "missing_arguments"],
    ["arguments not an object", '<tool_call>[{"name": "f", "arguments": [1]}]</tool_call>', "bad_arguments"],
    ["bad Python", "<tool_call>[f(a=1, 2)]</tool_call>", "bad_python"],
  ];
  for (const [what, text, reason] of cases) {
    it(what, () => {
      const p = parseCompletion(text);
      assert.equal(p.calls, null);
      assert.equal(p.failure?.reason, reason, p.failure?.message);
      assert.ok((p.failure?.message.length ?? 0) > 5);
    });
  }
  it("gives the position of bad JSON in the completion", () => {
    const text = '<tool_call>\n[{"name": "f",\n  "arguments": {"a": }}]\n</tool_call>';
    const p = parseCompletion(text);
    assert.equal(p.failure?.reason, "bad_json");
    assert.deepEqual(p.failure?.position && { line: p.failure.position.line, column: p.failure.position.column }, { line: 2, column: 22 });
    assert.equal(text[p.failure?.position?.offset ?? 0], "}");
  });
  it("gives the position of bad Python syntax", () => {
    const f = parsePythonCalls("[f(a=1), g(b=)]");
    assert.ok(isParseFailure(f));
    assert.equal(f.position?.offset, 13);
  });
});

describe("ground truth", () => {
  it("reads a list, its JSON text, ToolRL's target string and Python syntax to the same calls", () => {
    const want = [call("f", { a: 1 })];
    assert.deepEqual(parseGroundTruth([{ name: "f", arguments: { a: 1 } }]), want);
    assert.deepEqual(parseGroundTruth('[{"name": "f", "arguments": {"a": 1}}]'), want);
    assert.deepEqual(parseGroundTruth('<think>p</think>\n<tool_call>\n{"name": "f", "parameters": {"a": 1}}\n</tool_call>'), want);
    assert.deepEqual(parseGroundTruth("[f(a=1)]"), want);
  });
  it("reads a response-only target as no calls", () => {
    assert.deepEqual(parseGroundTruth("<think>p</think>\n<response>No tool fits.</response>"), []);
  });
  it("reports a broken ground truth", () => {
    assert.ok(isParseFailure(parseGroundTruth('[{"name": "f"}]')));
    assert.ok(isParseFailure(parseGroundTruth(42)));
  });
});
