// What each tool-call difference cost: the fixture's sample re-scored with one difference fixed at a
// time, by the reward version stored in the run (the demo schedule), through the scoring CLI.
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";

import { differenceCosts, withCalls } from "../../runs/counterfactual";
import type { TrajectoryRecord } from "../../runs/records";
import { rescore, withScheduleSource } from "../../runs/rescore";
import { readRewardVersion, readRollouts, readRunInfo, stepFiles } from "../../runs/runDir";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const FIXTURE = path.join(ROOT, "test", "fixtures", "run-small");
const CLI = path.join(ROOT, "dist", "cli.cjs");

describe("difference costs", () => {
  it("rewrites only the call block of a completion", () => {
    const completion = "<think>hm</think>\n<tool_call>\n[{\"name\": \"a\", \"arguments\": {}}]\n</tool_call> tail";
    assert.equal(withCalls(completion, [{ name: "b", arguments: { x: 1 } }], "tool-zero"), '<think>hm</think>\n<tool_call>\n[{"name":"b","arguments":{"x":1}}]\n</tool_call> tail');
    assert.equal(withCalls(completion, [{ name: "b", arguments: { x: 1 } }], "toolrl"), '<think>hm</think>\n<tool_call>\n{"name":"b","parameters":{"x":1}}\n</tool_call> tail');
    assert.equal(withCalls("no block", [], "tool-zero"), null);
  });

  it("re-scoring the stored records with their own version gives their stored rewards", async () => {
    const records = readRollouts(stepFiles(FIXTURE)[0]!.file).rows;
    const version = readRewardVersion(FIXTURE, records[0]!.reward_version)!;
    const scored = await withScheduleSource(version.source!, path.join(ROOT, "demo", "reward-schedule.ts"), (file) => rescore(records, ["--schedule", file], { cli: CLI, node: process.execPath }));
    for (const s of scored) assert.ok(Math.abs((s.after ?? NaN) - (s.before ?? NaN)) < 1e-9, `${s.id}: ${s.before} → ${s.after}`);
  });

  it("prices each difference of a parsed, wrong sample; fixing them all reaches the exact call's reward", async () => {
    const records: TrajectoryRecord[] = stepFiles(FIXTURE).flatMap((f) => readRollouts(f.file).rows);
    const record = records.find((r) => r.calls && r.calls.length > 0 && r.ground_truth.length > 0 && JSON.stringify(r.calls) !== JSON.stringify(r.ground_truth));
    assert.ok(record, "the fixture has a parsed sample with wrong calls");
    const version = readRewardVersion(FIXTURE, record.reward_version)!;
    const template = readRunInfo(FIXTURE).config?.data?.template;
    const costs = await withScheduleSource(version.source!, path.join(ROOT, "demo", "reward-schedule.ts"), (file) => differenceCosts(record, ["--schedule", file], { cli: CLI, node: process.execPath, template }));
    assert.ok(costs && costs.length > 0);
    for (const c of costs) {
      assert.ok(c.total !== null && c.total >= -1e-9, `${c.label}: fixing a difference never lowers this reward (${c.total})`);
      const sum = Object.values(c.components).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - c.total) < 1e-6, `${c.label}: the components add up to the total`);
    }
    assert.ok(costs.some((c) => (c.total ?? 0) > 0), "at least one difference costs reward");
    const unparsed = records.find((r) => r.calls === null)!;
    assert.equal(await differenceCosts(unparsed, ["--preset", "tool-zero"], { cli: CLI, node: process.execPath, template }), null);
  });
});
