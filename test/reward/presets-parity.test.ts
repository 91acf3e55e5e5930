// Every fixture row scores what the papers' own code gives (`gold`, and for ToolRL `gold_components`).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { trainingTime } from "../../reward/api";
import { makePreset } from "../../reward/presets";
import { scoreSample } from "../../reward/score";
import { readFixture } from "./fixtures";

describe("tool-n1 preset matches Tool-N1's released reward on every fixture row", () => {
  const schedule = makePreset("tool-n1");
  const rows = readFixture("fixtures/rewards/tool-n1-fixtures.jsonl");
  it("has the fixture rows", () => assert.ok(rows.length >= 80, `only ${rows.length} rows`));
  for (const row of rows) {
    it(row.id, () => {
      const s = scoreSample(schedule, { id: row.id, completion: row.completion, groundTruth: row.ground_truth }, trainingTime({ step: row.step ?? 0 }), "test");
      assert.equal(s.failure, null, s.failure?.message);
      assert.equal(s.total, Number(row.gold), `${row.id}: got ${s.total}, gold ${row.gold}; ${JSON.stringify(s.components)}`);
    });
  }
});

describe("toolrl preset matches ToolRL's released reward on every fixture row", () => {
  const schedule = makePreset("toolrl");
  const rows = readFixture("fixtures/rewards/toolrl-fixtures.jsonl");
  it("has the fixture rows", () => assert.ok(rows.length >= 60, `only ${rows.length} rows`));
  for (const row of rows) {
    it(row.id, () => {
      const s = scoreSample(schedule, { id: row.id, completion: row.completion, groundTruth: row.ground_truth }, trainingTime({ step: row.step ?? 0 }), "test");
      assert.equal(s.failure, null, s.failure?.message);
      assert.equal(s.total, Number(row.gold), `${row.id}: got ${s.total}, gold ${row.gold}; ${JSON.stringify(s.components)}`);
      for (const [name, gold] of Object.entries(row.gold_components ?? {})) {
        assert.equal(s.components[name]?.value, Number(gold), `${row.id}: component ${name} got ${s.components[name]?.value}, gold ${gold}`);
      }
    });
  }
});
