import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BadInputError, defineSchedule, sigmoid, trainingTime, ScheduleError } from "../../reward/api";
import { scoreSample } from "../../reward/score";

const sample = { id: "s1", completion: '<think>x</think><tool_call>[{"name": "f", "arguments": {"a": 1}}]</tool_call>', groundTruth: [{ name: "f", arguments: { a: 1 } }] };

describe("defineSchedule", () => {
  it("rejects a malformed schedule with an error that names the field", () => {
    assert.throws(() => defineSchedule({ name: "", components: {} } as never), ScheduleError);
    assert.throws(() => defineSchedule({ name: "x", components: {} }), /"components" must be an object with at least one/);
    assert.throws(() => defineSchedule({ name: "x", components: { a: {} } } as never), /component "a" has no score function/);
    assert.throws(() => defineSchedule({ name: "x", components: { a: { score: () => 1, weight: NaN } } }), /component "a": weight must be a finite number/);
    assert.throws(() => defineSchedule({ name: "x", components: { a: { score: () => 1, range: [1, 0] } } }), /component "a": range must be \[min, max\]/);
  });
});

describe("scoring a sample", () => {
  it("reports the total, each component's raw, weighted value and explanation, the calls and the version", () => {
    const schedule = defineSchedule({
      name: "two-part",
      components: {
        exact: { weight: 2, score: ({ calls }) => ({ value: calls?.length === 1 ? 1 : 0, why: "one call" }) },
        ramp: { weight: (t) => t.progress, score: () => 0.5 },
      },
    });
    const s = scoreSample(schedule, sample, trainingTime({ step: 10, progress: 0.5 }), "v123");
    assert.equal(s.total, 2 * 1 + 0.5 * 0.5);
    assert.deepEqual(s.components.exact, { raw: 1, weight: 2, value: 2, why: "one call" });
    assert.deepEqual(s.components.ramp, { raw: 0.5, weight: 0.5, value: 0.25, why: "" });
    assert.deepEqual(s.calls, [{ name: "f", arguments: { a: 1 } }]);
    assert.equal(s.version, "v123");
    assert.equal(s.id, "s1");
    assert.equal(s.failure, null);
  });
  it("turns a throwing component into a reward failure naming the component, never a 0", () => {
    const schedule = defineSchedule({ name: "t", components: { ok: { score: () => 1 }, bad: { score: () => { throw new Error("boom"); } } } });
    const s = scoreSample(schedule, sample, trainingTime(), "v");
    assert.equal(s.total, null);
    assert.equal(s.failure?.kind, "exception");
    assert.equal(s.failure?.component, "bad");
    assert.match(s.failure?.message ?? "", /component "bad" threw: boom/);
  });
  it("turns NaN, Infinity, a non-number and a non-finite weight into reward failures", () => {
    for (const [score, weight] of [[() => NaN, 1], [() => Infinity, 1], [() => "1" as unknown as number, 1], [() => 1, () => NaN]] as const) {
      const schedule = defineSchedule({ name: "n", components: { c: { score, weight: weight as never } } });
      const s = scoreSample(schedule, sample, trainingTime(), "v");
      assert.equal(s.total, null);
      assert.equal(s.failure?.kind, "non_finite");
    }
  });
  it("uses a custom combine, and reports a failing one", () => {
    const gate = defineSchedule({ name: "g", components: { a: { score: () => 1 }, b: { score: () => 0 } }, combine: (c) => ({ value: c.a!.value * c.b!.value, why: "AND" }) });
    const s = scoreSample(gate, sample, trainingTime(), "v");
    assert.equal(s.total, 0);
    assert.equal(s.why, "AND");
    const broken = defineSchedule({ name: "g", components: { a: { score: () => 1 } }, combine: () => NaN });
    assert.equal(scoreSample(broken, sample, trainingTime(), "v").failure?.kind, "non_finite");
  });
  it("reports a ground truth that cannot be read, or is of the wrong type, as bad input naming the field", () => {
    const schedule = defineSchedule({ name: "x", components: { a: { score: () => 1 } } });
    const s = scoreSample(schedule, { completion: "x", groundTruth: '[{"name": 1}' }, trainingTime(), "v");
    assert.equal(s.total, null);
    assert.equal(s.failure?.kind, "bad_input");
    assert.equal(s.failure?.field, "ground_truth");
    assert.match(s.failure?.message ?? "", /^field "ground_truth" must be a list of \{"name", "arguments"\} calls, their JSON text, .*; its text could not be read: /);
    const number = scoreSample(schedule, { completion: "x", groundTruth: 5 }, trainingTime(), "v");
    assert.deepEqual(number.failure, { kind: "bad_input", field: "ground_truth", message: 'field "ground_truth" must be a list of {"name", "arguments"} calls, their JSON text, ToolRL\'s tagged target string or Python call syntax; got a number' });
  });
  it("lets a schedule's own prepare or component report bad input with BadInputError", () => {
    const schedule = defineSchedule({
      name: "x",
      components: { a: { score: ({ sample }) => (typeof sample.groundTruth === "string" ? 1 : (() => { throw new BadInputError("ground_truth", "a string", "got something else"); })()) } },
    });
    const s = scoreSample(schedule, { completion: "x", groundTruth: [] }, trainingTime(), "v");
    assert.deepEqual(s.failure, { kind: "bad_input", field: "ground_truth", component: "a", message: 'field "ground_truth" must be a string; got something else' });
  });
  it("sigmoid is the logistic curve", () => {
    assert.equal(sigmoid(25, 0.1, 25), 0.5);
    assert.ok(sigmoid(100, 0.1, 25) > 0.999);
  });
});
