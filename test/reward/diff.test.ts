// The explorer's tool-call diff: calls paired as partial credit pairs them, then argument by argument.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { diffCalls, differences } from "../../reward/diff";
import type { ToolCall } from "../../reward/parse";

const weather = (city: string, unit = "c") => ({ name: "get_weather", arguments: { city, unit } });

describe("tool-call diff", () => {
  it("finds nothing to say about an exact match", () => {
    const d = diffCalls([weather("Paris")], [weather("Paris")]);
    assert.equal(d.exact, true);
    assert.deepEqual(d.calls[0]?.arguments.map((a) => a.kind), ["same", "same"]);
  });

  it("names each argument's difference: value, type, missing, extra", () => {
    const d = diffCalls([{ name: "get_weather", arguments: { city: "Lyon", unit: 1, days: 3 } }], [{ name: "get_weather", arguments: { city: "Paris", unit: "c", when: "today" } }]);
    assert.equal(d.exact, false);
    const kinds = Object.fromEntries(d.calls[0]!.arguments.map((a) => [a.argument, a.kind]));
    assert.deepEqual(kinds, { city: "value", unit: "type", when: "missing", days: "extra" });
  });

  it("pairs same-name calls by best credit, whatever their order, and notes the order", () => {
    const d = diffCalls([weather("Rome"), weather("Paris")], [weather("Paris"), weather("Rome")]);
    assert.equal(d.exact, true);
    assert.equal(d.orderDiffers, true);
    assert.deepEqual(d.calls.map((c) => [c.truthIndex, c.predictedIndex]), [[0, 1], [1, 0]]);
  });

  it("tells a wrong function from missing and extra calls", () => {
    const d = diffCalls([{ name: "set_alarm", arguments: { hour: 7 } }, { name: "play_music", arguments: {} }], [weather("Paris")]);
    assert.deepEqual(d.calls.map((c) => c.kind), ["wrong-function", "extra"]);
    assert.equal(d.calls[0]?.predictedName, "set_alarm");
    const missing = diffCalls([], [weather("Paris"), { name: "set_alarm", arguments: { hour: 7 } }]);
    assert.deepEqual(missing.calls.map((c) => c.kind), ["missing", "missing"]);
  });

  it("treats an unparsed completion as every expected call missing", () => {
    const d = diffCalls(null, [weather("Paris")]);
    assert.equal(d.parsed, false);
    assert.equal(d.exact, false);
    assert.equal(d.calls[0]?.kind, "missing");
    assert.equal(diffCalls(null, []).exact, false);
    assert.equal(diffCalls([], []).exact, true);
  });
});

describe("each difference on its own", () => {
  it("fixes exactly one difference at a time", () => {
    const predicted: ToolCall[] = [{ name: "get_weather", arguments: { city: "Lyon", days: 3 } }, { name: "play_music", arguments: {} }];
    const truth = [{ name: "get_weather", arguments: { city: "Paris", unit: "c" } }];
    const items = differences(predicted, truth);
    assert.deepEqual(items.map((d) => d.label), ["get_weather: city (different value)", "get_weather: unit (missing)", "get_weather: days (extra)", "extra call play_music"]);
    assert.deepEqual(items[0]!.fixed[0]!.arguments, { city: "Paris", days: 3 });
    assert.deepEqual(items[1]!.fixed[0]!.arguments, { city: "Lyon", days: 3, unit: "c" });
    assert.deepEqual(items[2]!.fixed[0]!.arguments, { city: "Lyon" });
    assert.deepEqual(items[3]!.fixed.map((c) => c.name), ["get_weather"]);
    assert.deepEqual(predicted[0]!.arguments, { city: "Lyon", days: 3 }); // the input is left alone
  });

  it("fixes a wrong function, a missing call and the order", () => {
    const a = { name: "a", arguments: { x: 1 } };
    const b = { name: "b", arguments: { y: 2 } };
    assert.deepEqual(differences([{ name: "c", arguments: {} }], [a]).map((d) => [d.label, d.fixed]), [["c called instead of a", [a]]]);
    assert.deepEqual(differences([a], [a, b]).map((d) => d.fixed), [[a, b]]);
    const order = differences([b, a], [a, b]);
    assert.deepEqual(order.map((d) => d.label), ["call order"]);
    assert.deepEqual(order[0]!.fixed, [a, b]);
  });
});
