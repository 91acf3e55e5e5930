// Monitors: the built-in patterns on records made to show them (and not to), user predicates through the CLI.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { evaluateMonitors, rewardUpExactDown, type StepMonitors } from "../../runs/monitors";
import type { StepMetrics, TrajectoryRecord } from "../../runs/records";
import { CLI, ensureBuilt, ROOT } from "../reward/helpers";

const truth = [{ name: "get_weather", arguments: { city: "Oslo" } }];
const tools = [{ name: "get_weather", parameters: { properties: { city: {} } } }, { name: "get_time", parameters: { properties: { zone: {} } } }];

function record(group: number, sample: number, calls: TrajectoryRecord["calls"], extra: Partial<TrajectoryRecord> = {}): TrajectoryRecord {
  return {
    run: "r", step: 4, prompt_id: `p${group}`, group, sample, policy_version: 3, reward_version: "v", prompt: { messages: [], tools }, completion: "…", calls,
    parse_failure: calls === null ? { reason: "no_tag", message: "no tag" } : null, ground_truth: truth, reward: 0, components: {}, failure: null, advantage: 0,
    trained: true, prompt_tokens: 10, completion_tokens: 10, finish_reason: "stop", ...extra,
  } as TrajectoryRecord;
}

const flagged = (result: StepMonitors, id: string) => result.results.find((r) => r.id === id)?.flagged;

describe("built-in monitors", () => {
  it("flag the wrong function, invented arguments and repeated calls, and only those samples", () => {
    const records = [
      record(0, 0, truth),
      record(0, 1, [{ name: "get_time", arguments: { zone: "CET" } }]),
      record(0, 2, [{ name: "get_weather", arguments: { city: "Oslo", units: "C" } }]),
      record(0, 3, [truth[0]!, { name: "get_weather", arguments: { city: "Oslo" } }]),
      record(1, 0, null),
    ];
    const result = evaluateMonitors(records, []);
    assert.equal(result.samples, 5);
    assert.deepEqual(flagged(result, "wrong-function"), [[0, 1]]);
    assert.deepEqual(flagged(result, "invented-arguments"), [[0, 2]]);
    assert.deepEqual(flagged(result, "repeated-calls"), [[0, 3]]);
    assert.deepEqual(flagged(result, "length-drift"), []);
  });

  it("flag a group whose reward follows its length", () => {
    const lengths = [10, 20, 40, 80];
    const records = lengths.map((n, i) => record(2, i, truth, { completion_tokens: n, reward: n / 100 }));
    assert.equal(flagged(evaluateMonitors(records, []), "length-drift")?.length, 4);
    const flat = lengths.map((n, i) => record(2, i, truth, { completion_tokens: n, reward: i % 2 }));
    assert.equal(flagged(evaluateMonitors(flat, []), "length-drift")?.length, 0);
  });

  it("notice the mean reward rising while exact match does not", () => {
    const m = (step: number, reward: number, exact: number) => ({ step, reward: { mean: reward, min: 0, max: 1 }, exact_match_rate: exact, zero_variance_groups: 0 }) as StepMetrics;
    const hacking = Array.from({ length: 10 }, (_, i) => m(i + 1, i / 10, 1 - i / 10));
    const flat = Array.from({ length: 10 }, (_, i) => m(i + 1, i / 10, 0));
    const learning = Array.from({ length: 10 }, (_, i) => m(i + 1, i / 10, i / 10));
    const still = Array.from({ length: 10 }, (_, i) => m(i + 1, 0.5 + (i % 2) * 0.001, 0));
    assert.equal(rewardUpExactDown(hacking), true);
    assert.equal(rewardUpExactDown(flat), true, "exact calls that stay at 0 while the reward climbs");
    assert.equal(rewardUpExactDown(learning), false);
    assert.equal(rewardUpExactDown(still), false, "noise is not a rise");
    assert.equal(rewardUpExactDown(hacking.slice(0, 9)), false, "needs two windows of steps");
  });

  it("flag a run hacked as the demo once was: the reward climbs to its maximum while exact calls stay at 0", () => {
    // As measured on the old demo (issue 13): 167 steps, the reward 0.40 → 1.000 by step 60 and flat after,
    // exact 0 % throughout, every group without variance once the policy collapsed to one answer.
    const history = Array.from({ length: 167 }, (_, i): StepMetrics => {
      const step = i + 1;
      const reward = Math.min(1, 0.4 + (0.6 * step) / 60);
      return { step, reward: { mean: reward, min: reward - 0.3 * (1 - reward), max: 1 }, exact_match_rate: 0, zero_variance_groups: Math.min(1, step / 60) } as StepMetrics;
    });
    const records = [record(1, 0, truth, { calls: [{ name: "set_volume", arguments: { level: 1 } }] })];
    const flaggedAt = (id: string) => history.filter((m) => (flagged(evaluateMonitors(records.map((r) => ({ ...r, step: m.step })), history.slice(0, m.step)), id)?.length ?? 0) > 0).map((m) => m.step);
    const climbing = flaggedAt("reward-up-exact-down");
    assert.ok(climbing.includes(20) && climbing.includes(55), `flagged while the reward climbs: ${climbing.join(",")}`);
    assert.ok(!climbing.includes(100), "not once the reward stopped moving");
    const saturated = flaggedAt("reward-saturated");
    assert.equal(saturated[0], 54, "from the step 90 % of groups lost their variance");
    assert.equal(saturated.length, 167 - 53, "every step after");
    // A run that learns exact calls is not flagged by either.
    const learning = history.map((m) => ({ ...m, exact_match_rate: m.reward.mean }));
    assert.equal(rewardUpExactDown(learning.slice(0, 30)), false);
    assert.equal(flagged(evaluateMonitors(records, learning.slice(0, 100)), "reward-saturated")?.length, 0);
  });
});

describe("rollout-studio monitors", () => {
  let dir: string;
  before(() => {
    ensureBuilt();
    dir = mkdtempSync(path.join(os.tmpdir(), "rs-monitors-"));
    cpSync(path.join(ROOT, "test", "fixtures", "run-small"), path.join(dir, "run"), { recursive: true });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("runs user predicates beside the built-ins, every step, and reports one that throws instead of counting 0", () => {
    const file = path.join(dir, "mine.monitors.ts");
    writeFileSync(
      file,
      [
        'import { defineMonitors } from "rollout-studio";',
        "export default defineMonitors({",
        '  "no-calls": { title: "No parsed calls", match: (s) => s.calls === null },',
        '  "broken": { match: (s) => { if (s.step === 2) throw new Error("bad predicate"); return false; } },',
        "});",
      ].join("\n"),
    );
    const r = spawnSync(process.execPath, [CLI, "monitors", "--run", path.join(dir, "run"), "--monitors", file, "--format", "json"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const steps = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as StepMonitors);
    assert.deepEqual(steps.map((s) => s.step), [1, 2, 3]);
    const records = spawnSync(process.execPath, ["-e", `const fs=require("fs");for(const s of [1,2,3]){const rows=fs.readFileSync("${path.join(dir, "run", "rollouts")}/step-00000"+s+".jsonl","utf8").trim().split("\\n").map(JSON.parse);console.log(rows.filter(r=>r.calls===null).length)}`], { encoding: "utf8" }).stdout.trim().split("\n").map(Number);
    assert.deepEqual(steps.map((s) => flagged(s, "no-calls")?.length), records);
    const broken = steps[1]?.results.find((x) => x.id === "broken");
    assert.match(broken?.error ?? "", /monitor "broken" threw: bad predicate/);
    assert.equal(steps[0]?.results.find((x) => x.id === "broken")?.error, undefined);
    // A rollout line that does not read is named, not dropped: the other steps and samples are still evaluated.
    const step2 = path.join(dir, "run", "rollouts", "step-000002.jsonl");
    const original = readFileSync(step2, "utf8");
    writeFileSync(step2, original.replace(/\n/, '\n{"step": 2, "broken\n'));
    const cut = spawnSync(process.execPath, [CLI, "monitors", "--run", path.join(dir, "run"), "--format", "json"], { encoding: "utf8" });
    writeFileSync(step2, original);
    assert.equal(cut.status, 1, "some samples were not seen");
    assert.match(cut.stderr, /step-000002\.jsonl line 2 is not a readable rollout record \(.*\); the monitors did not see it/);
    const cutSteps = cut.stdout.trim().split("\n").map((l) => JSON.parse(l) as StepMonitors);
    assert.deepEqual(cutSteps.map((s) => [s.step, s.samples, s.unreadable?.map((u) => u.line)]), [[1, 12, undefined], [2, 12, [2]], [3, 12, undefined]]);
    const notMonitors = path.join(dir, "wrong.monitors.ts");
    writeFileSync(notMonitors, "export default 3;\n");
    const bad = spawnSync(process.execPath, [CLI, "monitors", "--run", path.join(dir, "run"), "--monitors", notMonitors], { encoding: "utf8" });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /must `export default defineMonitors/);
  });
});
