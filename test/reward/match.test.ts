import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assignCalls, astCheck, astMatchCalls, callCredit, callsEqualInOrder, exactCallsMatch, multisetJaccard, namesMatch, tokenRecall, tokenize, valueCredit,
} from "../../reward/match";
import { explainCallMismatch } from "../../reward/explain";
import type { ToolCall } from "../../reward/parse";
import { parsePyJson } from "../../reward/pyjson";

const calls = (json: string) => parsePyJson(json) as unknown as ToolCall[];

describe("exact multiset match", () => {
  const truth = calls('[{"name": "play", "arguments": {"artist": "Nina", "shuffle": true}}, {"name": "vol", "arguments": {"level": 40}}]');
  it("ignores call order and key order", () => {
    assert.ok(exactCallsMatch(calls('[{"name": "vol", "arguments": {"level": 40}}, {"name": "play", "arguments": {"shuffle": true, "artist": "Nina"}}]'), truth));
  });
  it("is type-strict by default: 40.0 and \"40\" are not 40", () => {
    assert.ok(!exactCallsMatch(calls('[{"name": "play", "arguments": {"artist": "Nina", "shuffle": true}}, {"name": "vol", "arguments": {"level": 40.0}}]'), truth));
    assert.ok(!exactCallsMatch(calls('[{"name": "play", "arguments": {"artist": "Nina", "shuffle": true}}, {"name": "vol", "arguments": {"level": "40"}}]'), truth));
  });
  it("accepts 40.0 and \"40\" in the opt-in coercing mode", () => {
    assert.ok(exactCallsMatch(calls('[{"name": "play", "arguments": {"artist": "Nina", "shuffle": "true"}}, {"name": "vol", "arguments": {"level": 40.0}}]'), truth, "coerce"));
    assert.ok(exactCallsMatch(calls('[{"name": "play", "arguments": {"artist": "Nina", "shuffle": true}}, {"name": "vol", "arguments": {"level": "40"}}]'), truth, "coerce"));
    assert.ok(!exactCallsMatch(calls('[{"name": "play", "arguments": {"artist": "nina", "shuffle": true}}, {"name": "vol", "arguments": {"level": 40}}]'), truth, "coerce"));
  });
  it("counts duplicates", () => {
    const one = calls('[{"name": "f", "arguments": {}}]');
    assert.ok(!exactCallsMatch(calls('[{"name": "f", "arguments": {}}, {"name": "f", "arguments": {}}]'), one));
    assert.ok(exactCallsMatch([], []));
    assert.ok(!exactCallsMatch([], one));
  });
  it("matches names alone as a multiset", () => {
    assert.ok(namesMatch(calls('[{"name": "vol", "arguments": {}}, {"name": "play", "arguments": {}}]'), truth));
    assert.ok(!namesMatch(calls('[{"name": "vol", "arguments": {}}]'), truth));
  });
  it("compares ordered lists with Python's == (5 == 5.0)", () => {
    assert.ok(callsEqualInOrder(calls('[{"name": "f", "arguments": {"a": 5.0}}]'), calls('[{"name": "f", "arguments": {"a": 5}}]')));
    assert.ok(!callsEqualInOrder(calls('[{"name": "g", "arguments": {}}, {"name": "f", "arguments": {}}]'), calls('[{"name": "f", "arguments": {}}, {"name": "g", "arguments": {}}]')));
  });
});

describe("partial credit", () => {
  it("multiset Jaccard", () => {
    assert.equal(multisetJaccard(["a", "b"], ["a", "c"]), 1 / 3);
    assert.equal(multisetJaccard(["a", "a"], ["a"]), 1 / 2);
    assert.equal(multisetJaccard([], ["a"]), 0);
  });
  it("per-value credit uses Python equality", () => {
    assert.equal(valueCredit(parsePyJson('{"a": 1, "b": "x", "c": true}') as never, parsePyJson('{"a": 1.0, "b": "y", "c": 1}') as never), 2);
  });
  it("greedy assignment takes the best unused same-name call in truth order, as ToolRL does", () => {
    const truth = calls('[{"name": "f", "arguments": {"a": 1, "b": 2}}, {"name": "f", "arguments": {"a": 1, "b": 3}}]');
    const pred = calls('[{"name": "f", "arguments": {"a": 1, "b": 3}}, {"name": "f", "arguments": {"a": 9, "b": 2}}]');
    // Truth 0 ties between both predictions (score 2 each) and takes the first; truth 1 then gets the second.
    assert.deepEqual(assignCalls(truth, pred, "greedy").map((p) => [p.truth, p.predicted, p.score]), [[0, 0, 2], [1, 1, 1]]);
    // The optimal assignment swaps them: 2 + 3 = 5 instead of 2 + 1.
    const optimal = assignCalls(truth, pred, "optimal");
    assert.deepEqual(optimal.map((p) => [p.truth, p.predicted]), [[0, 1], [1, 0]]);
    assert.equal(optimal.reduce((s, p) => s + p.score, 0), 5);
  });
  it("call credit is key Jaccard plus equal values", () => {
    const [t, p] = calls('[{"name": "f", "arguments": {"a": 1, "b": 2}}, {"name": "f", "arguments": {"a": 1, "c": 2}}]') as [ToolCall, ToolCall];
    assert.equal(callCredit(t, p), 1 / 3 + 1);
  });
});

describe("BFCL-style AST check", () => {
  const schema = { name: "book", parameters: { type: "object", properties: { city: { type: "string" }, nights: { type: "integer" }, price: { type: "number" }, tier: { type: "string", enum: ["a", "b"] } }, required: ["city", "nights"] } };
  const truth = calls('[{"name": "book", "arguments": {"city": "Rome", "nights": 3, "price": 10.5}}]')[0] as ToolCall;
  const check = (json: string) => astCheck(calls(`[${json}]`)[0] as ToolCall, truth, { schema }).map((e) => `${e.kind}:${e.argument ?? ""}`);
  it("passes a right call, accepting an int for a float", () => {
    assert.deepEqual(check('{"name": "book", "arguments": {"city": "Rome", "nights": 3, "price": 10.5}}'), []);
    const intPrice = calls('[{"name": "book", "arguments": {"city": "Rome", "nights": 3, "price": 10}}]')[0] as ToolCall;
    assert.deepEqual(astCheck(intPrice, { ...truth, arguments: { ...truth.arguments, price: 10 } }, { schema }), []);
  });
  it("names each kind of error", () => {
    assert.deepEqual(check('{"name": "hotel", "arguments": {}}'), ["wrong_function:"]);
    assert.deepEqual(check('{"name": "book", "arguments": {"city": "Rome", "price": 10.5}}'), ["missing_required:nights"]);
    assert.deepEqual(check('{"name": "book", "arguments": {"city": "Rome", "nights": 3, "price": 10.5, "pool": true}}'), ["unknown_argument:pool"]);
    assert.deepEqual(check('{"name": "book", "arguments": {"city": "Rome", "nights": 3.0, "price": 10.5}}'), ["wrong_type:nights"]);
    assert.deepEqual(check('{"name": "book", "arguments": {"city": "Paris", "nights": 3, "price": 10.5}}'), ["wrong_value:city"]);
    assert.deepEqual(check('{"name": "book", "arguments": {"city": "Rome", "nights": 3, "price": 10.5, "tier": "c"}}'), ["wrong_value:tier"]);
  });
  it("can compare strings as BFCL standardises them", () => {
    const p = calls('[{"name": "book", "arguments": {"city": "rome ", "nights": 3, "price": 10.5}}]')[0] as ToolCall;
    assert.equal(astCheck(p, truth, { schema, normalizeStrings: true }).length, 0);
  });
  it("matches whole lists of calls in any order and reports missing and extra calls", () => {
    const t = calls('[{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {}}]');
    assert.ok(astMatchCalls(calls('[{"name": "b", "arguments": {}}, {"name": "a", "arguments": {"x": 1}}]'), t).match);
    const m = astMatchCalls(calls('[{"name": "a", "arguments": {"x": 1}}, {"name": "c", "arguments": {}}]'), t);
    assert.ok(!m.match);
    assert.deepEqual([m.missingCalls, m.extraCalls], [[1], [1]]);
  });
});

describe("token overlap and explanations", () => {
  it("tokenises on whitespace and call punctuation, and measures recall", () => {
    assert.deepEqual(tokenize('get_weather(city="Paris", days=3)'), ["get_weather", "city", "Paris", "days", "3"]);
    assert.equal(tokenRecall(["a", "b", "b"], ["a", "b", "c", "c"]), 0.5);
    assert.equal(tokenRecall([], []), 1);
  });
  it("says what differs", () => {
    const truth = calls('[{"name": "vol", "arguments": {"level": 40}}]');
    assert.equal(explainCallMismatch(calls('[{"name": "vol", "arguments": {"level": 40.0}}]'), truth), "vol: level is 40.0 (float), expected 40 (int)");
    assert.equal(explainCallMismatch(calls('[{"name": "vol", "arguments": {}}]'), truth), "vol: missing argument level");
    assert.equal(explainCallMismatch(calls('[{"name": "mute", "arguments": {}}]'), truth), "called mute where vol was expected");
    assert.equal(explainCallMismatch(calls('[{"name": "vol", "arguments": {"level": 40}}, {"name": "vol", "arguments": {"level": 40}}]'), truth), "extra call to vol");
    assert.equal(explainCallMismatch(truth, truth), "");
  });
});
