// The reward host survives schedules that throw, loop, eat memory or do not compile, and bad input.
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { trainingTime } from "../../reward/api";
import { CompileError } from "../../reward/host/compile";
import { LoadError, ScheduleRunner } from "../../reward/host/runner";
import { CLI, ensureBuilt, SCHEDULES } from "./helpers";

const ok = (id: string) => ({ id, completion: '<think>x</think><tool_call>[{"name": "f", "arguments": {"a": 1}}]</tool_call>', ground_truth: [{ name: "f", arguments: { a: 1 } }] });
const bad = (id: string) => ({ ...ok(id), completion: "BAD" });
const schedule = (name: string) => ({ kind: "file" as const, path: path.join(SCHEDULES, name) });

before(ensureBuilt);

describe("schedule runner", () => {
  it("scores with a user schedule and gives a stable version", async () => {
    const runner = await ScheduleRunner.start(schedule("good.ts"));
    try {
      const { scores } = await runner.score([ok("a"), { ...ok("b"), completion: "no think" }], trainingTime({ step: 50 }));
      assert.deepEqual(scores.map((s) => s.total), [1 + 0.5, 0]);
      assert.equal(scores[0]?.components.format?.weight, 0.5);
      assert.match(runner.version, /^[0-9a-f]{12}$/);
      const again = await ScheduleRunner.start(schedule("good.ts"));
      assert.equal(again.version, runner.version);
      await again.close();
      assert.deepEqual(runner.info.components.map((c) => c.name), ["format", "exact"]);
    } finally {
      await runner.close();
    }
  });
  it("marks a throwing sample as a reward failure and scores the rest", async () => {
    const runner = await ScheduleRunner.start(schedule("throws.ts"));
    const { scores } = await runner.score([ok("a"), bad("b"), ok("c")], trainingTime());
    await runner.close();
    assert.deepEqual(scores.map((s) => s.total), [1, null, 1]);
    assert.equal(scores[1]?.failure?.kind, "exception");
    assert.match(scores[1]?.failure?.message ?? "", /cannot score this one/);
    assert.equal(scores[1]?.id, "b");
  });
  it("marks NaN as a reward failure", async () => {
    const runner = await ScheduleRunner.start(schedule("nan.ts"));
    const { scores } = await runner.score([bad("a"), ok("b")], trainingTime());
    await runner.close();
    assert.equal(scores[0]?.failure?.kind, "non_finite");
    assert.equal(scores[1]?.total, 1);
  });
  it("stops an endless loop at the batch time limit, fails that sample only, and keeps serving", async () => {
    const runner = await ScheduleRunner.start(schedule("loops.ts"), { batchTimeoutMs: 400 });
    const { scores } = await runner.score([ok("a"), bad("b"), ok("c")], trainingTime());
    assert.deepEqual(scores.map((s) => s.total), [1, null, 1]);
    assert.equal(scores[1]?.failure?.kind, "timeout");
    assert.match(scores[1]?.failure?.message ?? "", /time limit of 400 ms/);
    const next = await runner.score([ok("d")], trainingTime());
    assert.equal(next.scores[0]?.total, 1);
    await runner.close();
  });
  it("contains a schedule that exhausts its memory limit", async () => {
    const runner = await ScheduleRunner.start(schedule("hungry.ts"), { memoryMb: 64, batchTimeoutMs: 20_000 });
    const { scores } = await runner.score([ok("a"), bad("b"), ok("c")], trainingTime());
    assert.deepEqual(scores.map((s) => s.total), [1, null, 1]);
    assert.equal(scores[1]?.failure?.kind, "out_of_memory");
    assert.equal((await runner.score([ok("d")], trainingTime())).scores[0]?.total, 1);
    await runner.close();
  });
  it("reports a schedule that does not compile with file, line and column", async () => {
    await assert.rejects(ScheduleRunner.start(schedule("broken.ts")), (err: unknown) => {
      assert.ok(err instanceof CompileError);
      assert.ok(err.message.startsWith(`${path.join(SCHEDULES, "broken.ts")}:5:2: Expected "}" but found ")"`), err.message);
      assert.deepEqual(err.errors[0], { file: path.join(SCHEDULES, "broken.ts"), line: 5, column: 2, text: 'Expected "}" but found ")"' });
      return true;
    });
  });
  it("says what to do when the default export is missing", async () => {
    await assert.rejects(ScheduleRunner.start(schedule("no-default.ts")), (err: unknown) => err instanceof LoadError && /export default defineSchedule/.test(err.message));
  });
  it("reports a bad sample as bad input and scores the rest", async () => {
    const runner = await ScheduleRunner.start({ kind: "preset", name: "tool-n1" });
    const { scores } = await runner.score([ok("a"), { id: "b", completion: 5 }, ok("c")], trainingTime());
    await runner.close();
    assert.deepEqual(scores.map((s) => s.total), [1, null, 1]);
    assert.equal(scores[1]?.failure?.kind, "bad_input");
    assert.match(scores[1]?.failure?.message ?? "", /"completion" must be a string/);
  });
});

/** A reward host process and a reader of what it writes. */
class HostProcess {
  readonly child: ChildProcessWithoutNullStreams;
  private buffer = "";
  private lines: object[] = [];
  private waiters: { test: (m: { [k: string]: unknown }) => boolean; resolve: (m: { [k: string]: unknown }) => void }[] = [];
  stderr = "";

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, "host", ...args]);
    this.child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      this.buffer += chunk;
      for (let i = this.buffer.indexOf("\n"); i !== -1; i = this.buffer.indexOf("\n")) {
        const message = JSON.parse(this.buffer.slice(0, i)) as { [k: string]: unknown };
        this.buffer = this.buffer.slice(i + 1);
        const w = this.waiters.findIndex((x) => x.test(message));
        if (w !== -1) this.waiters.splice(w, 1)[0]?.resolve(message);
        else this.lines.push(message);
      }
    });
    this.child.stderr.setEncoding("utf8").on("data", (c: string) => (this.stderr += c));
  }

  next(test: (m: { [k: string]: unknown }) => boolean, timeoutMs = 15_000): Promise<{ [k: string]: unknown }> {
    const i = this.lines.findIndex((m) => test(m as { [k: string]: unknown }));
    if (i !== -1) return Promise.resolve(this.lines.splice(i, 1)[0] as { [k: string]: unknown });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({ test, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  request(id: number, method: string, params: object = {}): Promise<{ [k: string]: unknown }> {
    this.child.stdin.write(JSON.stringify({ id, method, params }) + "\n");
    return this.next((m) => m.id === id);
  }

  async close(): Promise<number | null> {
    this.child.stdin.end();
    return new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }
}

describe("reward host process", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "rs-host-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("serves a preset over JSON Lines and answers bad requests without dying", async () => {
    const host = new HostProcess(["--preset", "toolrl", "--option", "dynamic_scale=true"]);
    const ready = await host.next((m) => m.event === "ready");
    assert.equal((ready.schedule as { name: string }).name, "toolrl");
    const truth = '<think>p</think>\n<tool_call>\n{"name": "f", "parameters": {"a": 1}}\n</tool_call>';
    const reply = await host.request(1, "score", { step: 150, samples: [{ id: "x", completion: '<think>t</think>\n<tool_call>\n{"name": "f", "parameters": {"a": 1}}\n</tool_call>', ground_truth: truth }] });
    const result = reply.result as { version: string; scores: { total: number; components: { format: { value: number } } }[] };
    assert.equal(result.version, ready.version);
    assert.equal(result.scores[0]?.total, 1 + 3); // at step 150 the dynamic ranges have reached [-1, 1] and [-3, 3]
    host.child.stdin.write("this is not json\n");
    const err = await host.next((m) => m.id === null);
    assert.match((err.error as { message: string }).message, /request line 2: Expecting value/);
    const unknown = await host.request(2, "frobnicate");
    assert.equal((unknown.error as { code: string }).code, "unknown_method");
    const missing = await host.request(3, "score", { samples: "nope" });
    assert.match((missing.error as { message: string }).message, /params.samples must be a list/);
    const weights = await host.request(4, "weights", { times: [{ step: 0 }, { step: 10 }] });
    assert.equal((weights.result as { rows: unknown[] }).rows.length, 2);
    assert.equal(await host.close(), 0);
  });

  it("hot-reloads a saved schedule, rejects versions that do not compile or fail the check, and keeps the last good one", async () => {
    const file = path.join(dir, "schedule.ts");
    copyFileSync(path.join(SCHEDULES, "good.ts"), file);
    const host = new HostProcess(["--schedule", file, "--watch", "--batch-timeout-ms", "2000"]);
    const ready = await host.next((m) => m.event === "ready");
    const first = await host.request(1, "score", { step: 0, samples: [ok("a")] });
    assert.equal((first.result as { version: string }).version, ready.version);

    // An edit that changes the reward: picked up and used for the next batch.
    writeFileSync(file, readFileSync(file, "utf8").replace('{ value: 1, why: "exact" }', '{ value: 0.5, why: "exact, halved" }'));
    const reloaded = await host.next((m) => m.event === "reloaded");
    assert.equal(reloaded.previous, ready.version);
    const second = await host.request(2, "score", { step: 0, samples: [ok("a")] });
    const secondResult = second.result as { version: string; scores: { total: number }[] };
    assert.equal(secondResult.version, reloaded.version);
    assert.equal(secondResult.scores[0]?.total, 1 + 0.5);

    // A version that does not compile: rejected with the error, the last good version keeps serving.
    writeFileSync(file, readFileSync(path.join(SCHEDULES, "broken.ts"), "utf8"));
    const rejected = await host.next((m) => m.event === "reload_rejected");
    assert.equal(rejected.version_kept, reloaded.version);
    assert.match((rejected.error as { message: string }).message, /does not compile[\s\S]*schedule\.ts:5/);
    const third = await host.request(3, "score", { step: 0, samples: [ok("a")] });
    assert.equal((third.result as { version: string }).version, reloaded.version);

    // A version that compiles but breaks its declared range on recent samples: rejected by the check.
    writeFileSync(file, readFileSync(path.join(SCHEDULES, "out-of-range.ts"), "utf8"));
    const failedCheck = await host.next((m) => m.event === "reload_rejected");
    assert.match((failedCheck.error as { message: string }).message, /outside its declared range \[0, 1\]/);

    // A version that throws on the recent samples is rejected too.
    writeFileSync(file, readFileSync(path.join(SCHEDULES, "throws.ts"), "utf8").replace('includes("BAD")', 'includes("<think>")'));
    const throwing = await host.next((m) => m.event === "reload_rejected");
    assert.match((throwing.error as { message: string }).message, /cannot score this one/);

    // A version whose reward changes between two runs on the same samples is rejected: it is not a function of the sample.
    writeFileSync(file, 'import { defineSchedule } from "rollout-studio";\nexport default defineSchedule({ name: "coin", components: { coin: { score: () => Math.random() } } });\n');
    const random = await host.next((m) => m.event === "reload_rejected");
    assert.match((random.error as { message: string }).message, /two runs differ/);

    const version = await host.request(4, "version");
    assert.equal((version.result as { version: string }).version, reloaded.version);
    assert.equal(await host.close(), 0);
  });

  for (const workers of [1, 3]) {
    it(`keeps scores in request order with ${workers} worker(s), a hung sample included`, async () => {
      const host = new HostProcess(["--schedule", path.join(SCHEDULES, "loops.ts"), "--batch-timeout-ms", "400", "--workers", String(workers)]);
      assert.equal((await host.next((m) => m.event === "ready")).workers, workers);
      const samples = ["a", "b", "c", "d", "e", "f", "g"].map((id) => (id === "e" ? bad(id) : ok(id)));
      const reply = await host.request(1, "score", { samples });
      const scores = (reply.result as { scores: { id: string; failure: { kind: string } | null }[] }).scores;
      assert.deepEqual(scores.map((s) => `${s.id}:${s.failure?.kind ?? "ok"}`), ["a:ok", "b:ok", "c:ok", "d:ok", "e:timeout", "f:ok", "g:ok"]);
      const empty = await host.request(2, "score", { samples: [] });
      assert.deepEqual((empty.result as { scores: unknown[] }).scores, []);
      const badRequest = await host.request(3, "score", { samples: 1 });
      assert.equal((badRequest.error as { code: string }).code, "bad_request");
      assert.equal(await host.close(), 0);
    });
  }

  it("answers a batch with a hung sample and a memory-hungry one, and goes on serving", async () => {
    const looping = new HostProcess(["--schedule", path.join(SCHEDULES, "loops.ts"), "--batch-timeout-ms", "400"]);
    await looping.next((m) => m.event === "ready");
    const reply = await looping.request(1, "score", { samples: [ok("a"), bad("b"), ok("c")] });
    const scores = (reply.result as { scores: { id: string; total: number | null; failure: { kind: string } | null }[] }).scores;
    assert.deepEqual(scores.map((s) => [s.id, s.total, s.failure?.kind ?? null]), [["a", 1, null], ["b", null, "timeout"], ["c", 1, null]]);
    const after = await looping.request(2, "score", { samples: [ok("d")] });
    assert.equal((after.result as { scores: { total: number }[] }).scores[0]?.total, 1);
    assert.equal(await looping.close(), 0);

    const hungry = new HostProcess(["--schedule", path.join(SCHEDULES, "hungry.ts"), "--memory-mb", "64"]);
    await hungry.next((m) => m.event === "ready");
    const oom = await hungry.request(1, "score", { samples: [bad("x"), ok("y")] });
    const oomScores = (oom.result as { scores: { total: number | null; failure: { kind: string } | null }[] }).scores;
    assert.deepEqual(oomScores.map((s) => s.failure?.kind ?? s.total), ["out_of_memory", 1]);
    assert.equal(await hungry.close(), 0);
  });

  it("exits with a clear error when the schedule does not compile and it is not watching", async () => {
    const host = new HostProcess(["--schedule", path.join(SCHEDULES, "broken.ts")]);
    const failed = await host.next((m) => m.event === "load_failed");
    assert.match((failed.error as { message: string }).message, /broken\.ts:5/);
    assert.equal(await host.close(), 1);
  });
});
