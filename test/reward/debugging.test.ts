// Debugging rewards from the command line: attribution to code, the contract check, replay on stored
// rollouts. The fixture run (test/fixtures/run-small, the demo schedule) is copied so nothing is written
// into the repository.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { ScheduleRunner } from "../../reward/host/runner";
import { groupAdvantages } from "../../runs/grpo";
import type { ReplayReport, ReplayedSample } from "../../runs/replay";
import type { TrajectoryRecord } from "../../runs/records";
import { CLI, ensureBuilt, ROOT } from "./helpers";

const FIXTURE = path.join(ROOT, "test", "fixtures", "run-small");
let dir: string;
let run: string;

before(() => {
  ensureBuilt();
  dir = mkdtempSync(path.join(os.tmpdir(), "rs-debugging-"));
  run = path.join(dir, "run");
  cpSync(FIXTURE, run, { recursive: true });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function schedule(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `import { defineSchedule, rule } from "rollout-studio";\n${body}`);
  return file;
}

function records(): TrajectoryRecord[] {
  return readdirSync(path.join(run, "rollouts"))
    .sort()
    .flatMap((f) => readFileSync(path.join(run, "rollouts", f), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as TrajectoryRecord));
}

const storedVersion = (): string => (JSON.parse(readFileSync(path.join(run, "run.json"), "utf8")) as { reward_versions: string[] }).reward_versions[0] as string;

describe("attribution to code", () => {
  it("locates each component's score function and each rule() call in the schedule's TypeScript", async () => {
    const file = schedule(
      "attributed.ts",
      [
        "export default defineSchedule({",
        '  name: "attributed",',
        "  components: {",
        "    format: {",
        "      score: ({ calls }) => {",
        '        if (calls === null) return rule(0, "no calls");',
        '        return rule(1, "calls parse");',
        "      },",
        "    },",
        '    plain: { score: () => ({ value: 0.5, why: "no rule" }) },',
        "  },",
        "});",
      ].join("\n"),
    );
    const runner = await ScheduleRunner.start({ kind: "file", path: file });
    try {
      assert.deepEqual(runner.info.components.map((c) => [c.name, c.at]), [["format", { line: 6, column: 14 }], ["plain", { line: 11, column: 21 }]]);
      const truth = [{ name: "f", arguments: {} }];
      const { scores } = await runner.score([{ id: "a", completion: "<tool_call>[{\"name\": \"f\", \"arguments\": {}}]</tool_call>", ground_truth: truth }, { id: "b", completion: "prose", ground_truth: truth }], { step: 1, progress: 0, epoch: 0 });
      assert.deepEqual(scores[0]?.components.format?.at, { line: 8, column: 16 });
      assert.deepEqual(scores[1]?.components.format?.at, { line: 7, column: 36 });
      assert.equal(scores[0]?.components.plain?.at, undefined, "no rule(): the component's own location stands (in the version's record)");
    } finally {
      await runner.close();
    }
  });
});

describe("rollout-studio check (the contract check on save)", () => {
  const check = (file: string, extra: string[] = []) => {
    const r = cli(["check", "--schedule", file, "--run", run, "--format", "json", ...extra]);
    return { ...r, report: JSON.parse(r.out.trim().split("\n").pop() as string) as { ok: boolean; samples: number; problems: { kind: string; message: string; at?: { line: number }; blocking: boolean; count: number }[]; latencyMs: { mean: number } | null; loadErrors?: { line: number; text: string }[] } };
  };

  it("passes the demo schedule on stored samples and reports its latency per sample", () => {
    const r = check(path.join(ROOT, "demo", "reward-schedule.ts"));
    assert.equal(r.code, 0, r.err);
    assert.equal(r.report.ok, true);
    assert.equal(r.report.samples, 36);
    assert.deepEqual(r.report.problems, []);
    assert.ok(r.report.latencyMs && r.report.latencyMs.mean > 0);
  });

  it("finds non-determinism, exceptions at their line, values outside the declared range, and slow samples", () => {
    const random = check(schedule("random.ts", 'export default defineSchedule({ name: "r", components: { coin: { score: () => Math.random() } } });\n'));
    assert.equal(random.code, 1);
    assert.ok(random.report.problems.some((p) => p.kind === "non_deterministic" && /two runs differ: total/.test(p.message)), JSON.stringify(random.report.problems));

    const throws = check(schedule("throws.ts", ["export default defineSchedule({ name: \"t\", components: { boom: {", "  score: ({ calls }) => {", "    if (calls === null) throw new Error(\"no calls to look at\");", "    return 1;", "  } } } });"].join("\n")));
    assert.equal(throws.code, 1);
    const exception = throws.report.problems.find((p) => p.kind === "exception");
    assert.equal(exception?.at?.line, 4, "the line of the throw, through the source map");
    assert.match(exception?.message ?? "", /no calls to look at/);
    assert.ok((exception?.count ?? 0) > 1, "one problem per place, with a count of samples");

    const range = check(schedule("range.ts", ['export default defineSchedule({ name: "o", components: {', "  big: { range: [0, 1], score: () => 2 },", "} });"].join("\n")));
    assert.equal(range.code, 1);
    const outside = range.report.problems.find((p) => p.kind === "out_of_range");
    assert.match(outside?.message ?? "", /outside its declared range \[0, 1\]/);
    assert.equal(outside?.at?.line, 3);

    const slow = check(schedule("slow.ts", 'export default defineSchedule({ name: "s", components: { wait: { score: () => { const end = Date.now() + 3; while (Date.now() < end); return 1; } } } });\n'), ["--slow-ms", "1"]);
    assert.equal(slow.code, 0, "slow samples warn; they do not block the version");
    assert.ok(slow.report.problems.every((p) => p.kind === "slow" && !p.blocking) && slow.report.problems.length > 0);
  });

  it("reports a schedule that does not compile at its line", () => {
    const r = check(schedule("broken.ts", "export default defineSchedule({ name: \"b\", components: {\n  x: { score: () => 1 +  } } });\n"));
    assert.equal(r.code, 1);
    assert.equal(r.report.loadErrors?.[0]?.line, 3);
  });

  it("says so in text when no run is given", () => {
    const r = cli(["check", "--schedule", path.join(ROOT, "demo", "reward-schedule.ts")]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /no --run: only loading was checked/);
  });
});

describe("rollout-studio replay", () => {
  const replay = (args: string[]) => {
    const r = cli(["replay", "--run", run, "--format", "json", ...args]);
    assert.equal(r.code, 0, r.err);
    return JSON.parse(r.out) as ReplayReport;
  };

  it("reproduces the stored scores and advantages with the stored version", () => {
    const out = path.join(dir, "same.jsonl");
    const report = replay(["--after", `version:${storedVersion()}`, "--samples-out", out]);
    assert.equal(report.samples, 36);
    assert.equal(report.changed, 0);
    assert.deepEqual(report.after.versions, [storedVersion()], "a stored version written back out keeps its version");
    const rows = readFileSync(out, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as ReplayedSample);
    const stored = records();
    rows.forEach((row, i) => assert.ok(Math.abs(row.advantageBefore - (stored[i] as TrajectoryRecord).advantage) < 1e-6, `advantage of sample ${i}`));
  });

  it("finds exactly the samples an edit changes, per component, with the groups' variance", () => {
    // An edit of the version that scored the fixture run (its stored source), not of today's demo schedule.
    const source = (JSON.parse(readFileSync(path.join(run, "rewards", `${storedVersion()}.json`), "utf8")) as { source: string }).source;
    const edited = path.join(dir, "edited.ts");
    writeFileSync(edited, source.replace('{ value: 0.5, why: "tags in order, but no calls that parse" }', '{ value: 0.25, why: "tags only" }'));
    const report = replay(["--after", `schedule:${edited}`, "--top", "5"]);
    const expected = records().filter((r) => r.components.format?.why === "tags in order, but no calls that parse").length;
    assert.ok(expected > 0, "the fixture has samples with tags but no parsed calls");
    assert.equal(report.changed, expected);
    assert.equal(report.decreased, expected);
    assert.deepEqual(report.components.filter((c) => c.changed > 0).map((c) => c.name), ["format"]);
    assert.ok(report.top.length <= 5 && report.top.every((r) => r.delta !== null && Math.abs(r.delta + 0.25) < 1e-9));
    assert.equal(report.histogram.before.reduce((a, b) => a + b, 0), 36);

    // A reward that is the same for everyone: every group that had variance loses it.
    const flat = schedule("flat.ts", 'export default defineSchedule({ name: "flat", components: { one: { score: () => rule(1, "same for all") } } });\n');
    const flatReport = replay(["--after", `schedule:${flat}`]);
    assert.equal(flatReport.groups.zeroVarianceAfter, flatReport.groups.total);
    assert.equal(flatReport.groups.loseVariance, flatReport.groups.total - flatReport.groups.zeroVarianceBefore);
    assert.equal(flatReport.groups.gainVariance, 0);
  });

  it("counts new reward failures with their messages and picks steps", () => {
    const failing = schedule("fails.ts", 'export default defineSchedule({ name: "f", components: { x: { score: () => { throw new Error("not today"); } } } });\n');
    const report = replay(["--after", `schedule:${failing}`, "--steps", "2-3"]);
    assert.deepEqual(report.steps, [2, 3]);
    assert.equal(report.failuresAfter, 24);
    assert.match(report.newFailures[0]?.message ?? "", /not today/);
    const bad = cli(["replay", "--run", run, "--after", "nonsense", "--format", "json"]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /"nonsense" is not a reward version/);
    const steps = cli(["replay", "--run", run, "--after", `schedule:${failing}`, "--steps", "9"]);
    assert.match(steps.err, /none of them is stored in this run \(stored: 1–3\)/);
  });

  it("reports records that a cut-short or emptied rollout file no longer holds as failures, never as 0", () => {
    const cut = path.join(dir, "cut");
    cpSync(run, cut, { recursive: true });
    const step2 = path.join(cut, "rollouts", "step-000002.jsonl");
    const lines = readFileSync(step2, "utf8").split("\n").filter(Boolean);
    assert.equal(lines.length, 12);
    writeFileSync(step2, lines.slice(0, 5).join("\n") + "\n");
    writeFileSync(path.join(cut, "rollouts", "step-000003.jsonl"), "");
    const flat = schedule("seven.ts", 'export default defineSchedule({ name: "seven", components: { x: { score: () => rule(0.7, "same for all") } } });\n');
    const r = cli(["replay", "--run", cut, "--after", `schedule:${flat}`, "--steps", "2-3", "--format", "json", "--samples-out", path.join(dir, "cut.jsonl")]);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as ReplayReport;
    assert.equal(report.samples, 24);
    assert.equal(report.missingRecords, 7 + 12);
    assert.equal(report.failuresAfter, 19);
    assert.equal(report.histogram.after.reduce((a, b) => a + b, 0), 5, "only the five records still there are scored");
    const rows = readFileSync(path.join(dir, "cut.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as ReplayedSample);
    assert.ok(rows.slice(0, 5).every((row) => row.after === 0.7));
    for (const row of rows.slice(5)) {
      assert.equal(row.after, null, `step ${row.step} sample ${row.group}/${row.sample} is not scored 0`);
      assert.match(row.failureAfter ?? "", /missing record: .*step-00000[23]\.jsonl holds fewer records than the step's index lists \(12\)/);
    }
    const text = cli(["replay", "--run", cut, "--after", `schedule:${flat}`, "--steps", "2-3"]);
    assert.match(text.out, /warning: 19 record\(s\) listed in the step index are missing/);
  });

  it("exits with the error when the version to compare against cannot start", () => {
    const flat = schedule("flat-before.ts", 'export default defineSchedule({ name: "flat", components: { one: { score: () => rule(1, "same") } } });\n');
    const broken = schedule("broken-before.ts", "export default defineSchedule({ name: 'b', components: { x: { score: () => 1 + } } });\n");
    const corrupt = path.join(dir, "corrupt-version");
    cpSync(run, corrupt, { recursive: true });
    writeFileSync(path.join(corrupt, "rewards", `${storedVersion()}.json`), '{"version": "017f');
    const cases: [string, string[], RegExp, RegExp?][] = [
      [run, ["--before", "version:0123456789ab"], /version 0123456789ab is not recorded in .*rewards\/0123456789ab\.json is missing/],
      [run, ["--before", `schedule:${broken}`], /broken-before\.ts/],
      [corrupt, ["--before", `version:${storedVersion()}`], /rewards\/017fa231035e\.json is corrupt: it is not valid JSON/, /is missing/],
    ];
    for (const [runDir, args, message, not] of cases) {
      const r = spawnSync(process.execPath, [CLI, "replay", "--run", runDir, ...args, "--after", `schedule:${flat}`], { encoding: "utf8", cwd: ROOT, timeout: 30_000 });
      assert.equal(r.signal, null, `replay ${args.join(" ")} exits by itself (it hung)`);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, message);
      if (not) assert.doesNotMatch(r.stderr, not);
    }
  });

  it("computes GRPO advantages as the engine does", () => {
    assert.deepEqual(groupAdvantages([1, null], true), [0, 0]);
    const adv = groupAdvantages([0, 1, null, 1], false);
    assert.ok(Math.abs((adv[0] as number) + 2 / 3) < 1e-12 && adv[2] === 0);
  });
});
