// Reading the run directory as the extension does, on the fixture run the engine wrote
// (test/fixtures/run-small; the engine's tests check it writes the same fields).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import { JsonlTail, RunDirError, listRuns, liveEnginePid, readEvals, readMetrics, readRunInfo, readRollouts, stepFiles } from "../../runs/runDir";
import { appendCase } from "../../runs/addCase";
import { SampleStore, sortRows, type SampleRow } from "../../runs/samples";

const FIXTURE = path.resolve(import.meta.dirname, "..", "fixtures", "run-small");

function tempCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-run-"));
  fs.cpSync(FIXTURE, path.join(dir, "run"), { recursive: true });
  return path.join(dir, "run");
}

describe("run directory", () => {
  it("reads run.json, metrics, evaluations and step files of an engine-written run", () => {
    const info = readRunInfo(FIXTURE);
    assert.equal(info.status, "finished");
    assert.equal(info.step, 3);
    assert.equal(info.reward_versions.length, 1);
    assert.equal(info.reward_version_steps?.[info.reward_versions[0] as string], 1);
    const metrics = readMetrics(FIXTURE);
    assert.deepEqual(metrics.rows.map((m) => m.step), [1, 2, 3]);
    assert.deepEqual(metrics.bad, []);
    assert.ok(Object.values(metrics.rows[0]!.components).every((c) => typeof c.weight === "number"));
    assert.equal(readEvals(FIXTURE)[0]?.split, "eval");
    assert.deepEqual(stepFiles(FIXTURE).map((f) => f.step), [1, 2, 3]);
    assert.equal(readRollouts(stepFiles(FIXTURE)[0]!.file).rows.length, 12);
  });

  it("says what a folder is when it is not a run", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "rs-empty-"));
    assert.throws(() => readRunInfo(empty), (e: Error) => e instanceof RunDirError && /no run\.json/.test(e.message));
    assert.throws(() => readRunInfo(path.join(empty, "missing")), /does not exist/);
    fs.writeFileSync(path.join(empty, "run.json"), "{ not json");
    assert.throws(() => readRunInfo(empty), /not valid JSON/);
  });

  it("refuses a run.json whose fields have the wrong type, naming the field", () => {
    const run = tempCopy();
    const good = JSON.parse(fs.readFileSync(path.join(run, "run.json"), "utf8")) as Record<string, unknown>;
    const cases: [unknown, RegExp][] = [
      [{ ...good, step: "3" }, /"step" must be a whole number, found "3"/],
      [{ ...good, reward_versions: "017fa231035e" }, /"reward_versions" must be a list of version strings/],
      [{ ...good, checkpoints: [{ step: 1 }] }, /"checkpoints" must be a list of \{"step": number, "path": string\}/],
      [{ ...good, config: { ...(good.config as object), data: { template: 3 } } }, /"config\.data\.template" must be a string, found 3/],
      [{ ...good, config: [] }, /"config" must be an object, found a list/],
      [{ ...good, status: 1 }, /"status" must be a string/],
      [[good], /it is not a JSON object/],
    ];
    for (const [value, message] of cases) {
      fs.writeFileSync(path.join(run, "run.json"), JSON.stringify(value));
      assert.throws(() => readRunInfo(run), (e: Error) => e instanceof RunDirError && message.test(e.message) && e.message.includes(path.join(run, "run.json")), `${JSON.stringify(value).slice(0, 80)} → ${message}`);
    }
    fs.writeFileSync(path.join(run, "run.json"), JSON.stringify(good));
    assert.equal(readRunInfo(run).step, 3);
  });

  it("keeps the readable rows of a corrupt or truncated file and reports the bad lines by number", () => {
    const run = tempCopy();
    const file = stepFiles(run)[0]!.file;
    const lines = fs.readFileSync(file, "utf8").split("\n");
    lines[2] = "{ this is not json";
    lines[4] = JSON.stringify({ step: "one" });
    fs.writeFileSync(file, lines.join("\n").replace(/\n$/, "").slice(0, -20)); // the last line cut off
    const index = new SampleStore();
    index.addRolloutFile(file);
    assert.equal(index.size, 12 - 3);
    assert.deepEqual(
      index.bad.map((b) => b.line),
      [3, 5, 12],
    );
    assert.match(index.bad[0]!.error, /not valid JSON/);
    assert.match(index.bad[1]!.error, /"step" must be a number/);
    assert.match(index.bad[2]!.error, /cut off/);
  });

  it("follows a growing file line by line, waiting for a line's newline, and starts over when it is replaced", () => {
    const run = tempCopy();
    const file = path.join(run, "metrics.jsonl");
    const all = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
    fs.writeFileSync(file, all[0] + "\n" + all[1]!.slice(0, 30));
    const tail = new JsonlTail<{ step: number }>(file, () => null);
    assert.deepEqual(tail.poll().rows.map((r) => r.step), [1]);
    fs.appendFileSync(file, all[1]!.slice(30) + "\n" + all[2] + "\n");
    assert.deepEqual(tail.poll().rows.map((r) => r.step), [2, 3]);
    assert.deepEqual(tail.poll().rows, []);
    fs.writeFileSync(file, all[0] + "\n"); // a resume dropped steps 2 and 3
    assert.deepEqual(tail.poll().rows.map((r) => r.step), [1]);
  });

  it("lists runs newest first and tells a live engine from a dead one", () => {
    const run = tempCopy();
    const parent = path.dirname(run);
    fs.mkdirSync(path.join(parent, "not-a-run"));
    assert.deepEqual(listRuns(parent), [run]);
    fs.writeFileSync(path.join(run, ".lock"), String(process.pid));
    assert.equal(liveEnginePid(run), process.pid);
    fs.writeFileSync(path.join(run, ".lock"), "999999999");
    assert.equal(liveEnginePid(run), null);
  });
});

function fixtureStore(useIndex: boolean): SampleStore {
  const store = new SampleStore();
  for (const f of stepFiles(FIXTURE)) {
    if (useIndex) store.addIndexFile(path.join(FIXTURE, "index", path.basename(f.file)), f.file);
    else store.addRolloutFile(f.file);
  }
  return store;
}

function allRows(store: SampleStore): SampleRow[] {
  return Array.from({ length: store.size }, (_, i) => store.row(i));
}

describe("sample store", () => {
  it("reads the same rows from the compact index as from the records, and reads a record back from disk", () => {
    const fromIndex = fixtureStore(true);
    const fromRecords = fixtureStore(false);
    assert.equal(fromIndex.size, 36);
    assert.deepEqual(allRows(fromIndex), allRows(fromRecords));
    assert.deepEqual([...fromIndex.steps], [1, 2, 3]);
    assert.ok(fromIndex.components.includes("format"));
    const direct = readRollouts(stepFiles(FIXTURE)[1]!.file).rows[1]!;
    assert.deepEqual(fromIndex.record(13), direct);
  });

  it("gives a sample's GRPO group and marks group outcomes", () => {
    const store = fixtureStore(true);
    const rows = allRows(store);
    const detail = store.detail(13);
    assert.equal(detail.siblings.length, 4);
    assert.ok(detail.siblings.every((s) => s.group === rows[13]!.group && s.step === rows[13]!.step));
    for (const r of rows) {
      const group = rows.filter((o) => o.step === r.step && o.group === r.group);
      const expected = group.every((o) => o.exact) ? "all-right" : group.some((o) => o.exact) ? "mixed" : "all-wrong";
      assert.equal(r.group_outcome, expected);
    }
  });

  it("a run written by rollout-studio import says where it came from and keeps the trainer's reward beside Rollout Studio's", () => {
    const imported = path.resolve(import.meta.dirname, "..", "fixtures", "run-imported");
    assert.deepEqual(readRunInfo(imported).source, { trainer: "jsonl", path: "demo/rollouts.jsonl", mode: "import" });
    const store = new SampleStore();
    for (const f of stepFiles(imported)) store.addIndexFile(path.join(imported, "index", path.basename(f.file)), f.file);
    assert.equal(store.size, 16);
    const details = Array.from({ length: store.size }, (_, i) => store.detail(i));
    assert.deepEqual(details.slice(0, 4).map((d) => d.source_reward), [1, 0, 0.5, 0.2]); // as the JSONL recorded them
    assert.ok(details.every((d) => typeof d.reward === "number" && Object.keys(d.components).length > 0)); // scored again by tool-n1
    assert.equal(fixtureStore(true).detail(0).source_reward, undefined); // the engine's own runs have none
  });

  it("filters and sorts over all samples as a plain scan would", () => {
    const store = fixtureStore(true);
    const rows = allRows(store);
    const ids = (list: SampleRow[]) => list.map((r) => r.index);
    assert.deepEqual([...store.query({ step: 2 })], ids(rows.filter((r) => r.step === 2)));
    assert.deepEqual([...store.query({ parse_failure: "any" })], ids(rows.filter((r) => r.parse_failure !== null)));
    assert.deepEqual([...store.query({ parse_failure: "none" })], ids(rows.filter((r) => r.parse_failure === null)));
    const reason = rows.find((r) => r.parse_failure)!.parse_failure!;
    assert.deepEqual([...store.query({ parse_failure: reason })], ids(rows.filter((r) => r.parse_failure === reason)));
    assert.deepEqual([...store.query({ group_outcome: "all-wrong" })], ids(rows.filter((r) => r.group_outcome === "all-wrong")));
    assert.deepEqual([...store.query({ exact: false, step: 3 })], ids(rows.filter((r) => !r.exact && r.step === 3)));
    const prompt = rows[5]!.prompt_id;
    assert.deepEqual([...store.query({ prompt_id: prompt })], ids(rows.filter((r) => r.prompt_id === prompt)));
    const word = rows[0]!.text.split(/\s+/)[1]!.toLowerCase();
    assert.deepEqual([...store.query({ text: word })], ids(rows.filter((r) => `${r.prompt_id}\n${r.text}`.toLowerCase().includes(word))));
    const byReward = [...store.query({ sort: "reward" })].map((i) => rows[i]!.reward!);
    assert.deepEqual(byReward, [...byReward].sort((a, b) => b - a));
    const byCredit = [...store.query({ sort: "component:credit", descending: false })].map((i) => rows[i]!.components.credit!);
    assert.deepEqual(byCredit, [...byCredit].sort((a, b) => a - b));
  });
});

describe("sorting rows", () => {
  it("orders by key either way, failures (NaN) last, ties in row order", () => {
    const rows = Int32Array.from([0, 1, 2, 3, 4]);
    const keys = [1, NaN, 3, 1, -2.5];
    assert.deepEqual([...sortRows(rows.slice(), keys, true)], [2, 0, 3, 4, 1]);
    assert.deepEqual([...sortRows(rows.slice(), keys, false)], [4, 0, 3, 2, 1]);
    const big = Int32Array.from([5, 3_000_000]); // past the packed sort's row limit: the comparator path
    const sparse: number[] = [];
    sparse[5] = 2;
    sparse[3_000_000] = 7;
    assert.deepEqual([...sortRows(big, sparse, true)], [3_000_000, 5]);
  });
});

describe("a sample as a reward case", () => {
  it("pins the stored reward under a header naming the run's reward, and the case passes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-case-"));
    const file = path.join(dir, "cases", "run.reward-cases.jsonl");
    const records = readRollouts(stepFiles(FIXTURE)[0]!.file).rows;
    // The schedule as it was when it scored the fixture run (its stored source), not today's demo schedule.
    const schedule = path.join(dir, "reward-schedule.ts");
    fs.writeFileSync(schedule, (JSON.parse(fs.readFileSync(path.join(FIXTURE, "rewards", `${records[0]!.reward_version}.json`), "utf8")) as { source: string }).source);
    const info = { ...readRunInfo(FIXTURE), config: { ...readRunInfo(FIXTURE).config, reward: { schedule } } };
    assert.equal(appendCase(file, records[0]!, info), 2);
    assert.equal(appendCase(file, records[4]!, info), 3);
    const lines = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines[0], { reward: { schedule: path.relative(path.dirname(file), info.config.reward.schedule) } });
    assert.equal((lines[1]!.expect as { total: number }).total, records[0]!.reward);
    const cli = path.resolve(import.meta.dirname, "..", "..", "dist", "cli.cjs");
    const r = spawnSync(process.execPath, [cli, "test-rewards", file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /2 passed, 0 failed/);
  });
});
