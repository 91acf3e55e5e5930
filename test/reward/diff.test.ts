// The explorer's tool-call diff: calls paired as partial credit pairs them, then argument by argument.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { diffCalls } from "../../reward/diff";

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
