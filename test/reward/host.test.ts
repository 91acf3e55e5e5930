// The reward host survives schedules that throw, loop, eat memory or do not compile, and bad input.
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { trainingTime } from "../../reward/api";
import { CompileError } from "../../reward/host/compile";
import { LoadError, ScheduleRunner, type RunnerOutput } from "../../reward/host/runner";
import { CLI, ensureBuilt, SCHEDULES } from "./helpers";
import { problems, REPLY_DEF } from "../contract/schemas";

const ok = (id: string) => ({ id, completion: '<think>x</think><tool_call>[{"name": "f", "arguments": {"a": 1}}]</tool_call>', ground_truth: [{ name: "f", arguments: { a: 1 } }] });
const bad = (id: string) => ({ ...ok(id), completion: "BAD" });
const schedule = (name: string) => ({ kind: "file" as const, path: path.join(SCHEDULES, name) });

before(ensureBuilt);

/** Polls until `find` gives something (output arrives on its own time), for up to 5 s. */
async function waitFor<T>(find: () => T | undefined, timeoutMs = 5000): Promise<T> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const found = find();
    if (found !== undefined) return found;
  }
  throw new Error(`nothing came within ${timeoutMs} ms`);
}

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
  it("keeps what a schedule prints out of the protocol: each sample's output in its score, the rest labelled", async () => {
    const outputs: RunnerOutput[] = [];
    const runner = await ScheduleRunner.start(schedule("prints.ts"), {}, undefined, { onOutput: (o) => outputs.push(o) });
    try {
      const { scores } = await runner.score([ok("a"), { ...ok("b"), completion: "LATER" }], trainingTime());
      assert.deepEqual(scores.map((s) => s.total), [1, 1]);
      assert.deepEqual(scores[0]?.logs, [
        { stream: "stdout", text: '42\n{"id":1,"result":{"version":"printed","scores":[]}}\n{ id: 1, result: { scores: [] } }\n' },
        { stream: "stderr", text: "warn a\nerror a\n" },
        { stream: "stdout", text: "debug\nraw stdout write\n" },
        { stream: "stderr", text: "raw stderr write\n" },
      ]);
      assert.equal(scores[1]?.logs?.[1]?.text, "warn b\nerror b\n");
      // At load, and from a timer after its sample's score was sent: labelled, with the version.
      const later = await waitFor(() => outputs.find((o) => o.during === "late"));
      assert.deepEqual(later, { stream: "stdout", text: "printed later by b\n", during: "late", sample: "b", version: runner.version, label: schedule("prints.ts").path });
      assert.deepEqual(outputs.filter((o) => o.during === "load").map((o) => o.text), ["loading the printing schedule\n"]);
    } finally {
      await runner.close();
    }
  });
  it("caps a sample's output and says how much was dropped", async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "rs-chatty-")), "chatty.ts");
    writeFileSync(file, 'import { defineSchedule } from "rollout-studio";\nexport default defineSchedule({ name: "chatty", components: { c: { score: () => { for (let i = 0; i < 1000; i++) console.log("x".repeat(99)); return 1; } } } });\n');
    const runner = await ScheduleRunner.start({ kind: "file", path: file });
    const { scores } = await runner.score([ok("a")], trainingTime());
    await runner.close();
    rmSync(path.dirname(file), { recursive: true, force: true });
    const logs = scores[0]?.logs ?? [];
    assert.equal(logs[0]?.text.length, 8 * 1024);
    assert.deepEqual(logs[1], { stream: "stderr", text: `[${100_000 - 8 * 1024} more characters of output not kept: 8 KiB per sample]\n` });
  });
  it("ties an error thrown later by a timer or a promise to the sample that started it, and fails no other", async () => {
    const outputs: RunnerOutput[] = [];
    const runner = await ScheduleRunner.start(schedule("late-errors.ts"), { batchTimeoutMs: 5000 }, undefined, { onOutput: (o) => outputs.push(o) });
    const line = (scores: { id?: string; total: number | null; failure: { kind: string } | null }[]) => scores.map((s) => `${s.id}:${s.failure?.kind ?? s.total}`);
    try {
      // A timer's throw comes after the batch is answered: reported with its sample, which kept its score.
      const first = await runner.score([ok("a"), { ...ok("b"), completion: "TIMER" }, ok("c")], trainingTime());
      assert.deepEqual(line(first.scores), ["a:1", "b:1", "c:1"]);
      const late = await waitFor(() => outputs.find((o) => o.error));
      assert.equal(late.sample, "b");
      assert.equal(late.during, "late");
      assert.match(late.text, /started by sample b threw after its score was sent: Error: thrown later by a timer of b/);
      assert.deepEqual(line((await runner.score([ok("d"), ok("e")], trainingTime())).scores), ["d:1", "e:1"]);
      // A rejected promise nobody handles is seen before the batch's reply: that sample fails, alone.
      const third = await runner.score([ok("f"), { ...ok("g"), completion: "REJECT" }, ok("h")], trainingTime());
      assert.deepEqual(line(third.scores), ["f:1", "g:exception", "h:1"]);
      assert.match(third.scores[1]?.failure?.message ?? "", /a promise started while scoring this sample threw later: rejected later by g/);
      assert.deepEqual(line((await runner.score([ok("i"), { ...ok("j"), completion: "TIMER" }], trainingTime())).scores), ["i:1", "j:1"]);
      await waitFor(() => outputs.find((o) => o.error && o.sample === "j"));
      assert.deepEqual(line((await runner.score([ok("k")], trainingTime())).scores), ["k:1"]);
    } finally {
      await runner.close();
    }
  });
  it("fails the sample after which the worker holds more typed-array memory than its limit, and scores the rest", async () => {
    const runner = await ScheduleRunner.start(schedule("offheap.ts"), { memoryMb: 64, batchTimeoutMs: 20_000 });
    try {
      const { scores } = await runner.score([ok("a"), { ...ok("b"), completion: "HOARD" }, ok("c")], trainingTime());
      assert.deepEqual(scores.map((s) => s.failure?.kind ?? s.total), [1, "out_of_memory", 1]);
      assert.match(scores[1]?.failure?.message ?? "", /held 51\d MB outside the JS heap \(typed arrays, Buffers\) after this sample, over the memory limit of 64 MB/);
      assert.equal((await runner.score([ok("d")], trainingTime())).scores[0]?.total, 1);
    } finally {
      await runner.close();
    }
  });
  it("fails no sample for typed-array memory a timer took between batches: replaces the worker and says so", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rs-timer-hoard-"));
    const file = path.join(dir, "timer-hoard.ts");
    // 128 MB of arrays, taken by a timer after the batch that armed it, never by a sample.
    writeFileSync(file, 'import { defineSchedule } from "rollout-studio";\nlet held: Float64Array[] = [];\nexport default defineSchedule({ name: "timer-hoard", components: { a: { score: ({ sample }) => { if (sample.completion.includes("ARM")) setTimeout(() => { held = Array.from({ length: 8 }, () => new Float64Array(2 * 1024 * 1024)); }, 0); return held.length >= 0 ? 1 : 0; } } } });\n');
    const outputs: RunnerOutput[] = [];
    const runner = await ScheduleRunner.start({ kind: "file", path: file }, { memoryMb: 64 }, undefined, { onOutput: (o) => outputs.push(o) });
    try {
      assert.deepEqual((await runner.score([{ ...ok("a"), completion: "ARM" }], trainingTime())).scores.map((s) => s.failure?.kind ?? s.total), [1]);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual((await runner.score([ok("b"), ok("c")], trainingTime())).scores.map((s) => s.failure?.kind ?? s.total), [1, 1]);
      assert.match(outputs.find((o) => o.error)?.text ?? "", /held 12\d MB outside the JS heap .* before a batch, over the memory limit of 64 MB: taken outside any sample/);
    } finally {
      await runner.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("stops a sample that fills memory outside the heap and does not return, before the time limit", async () => {
    const runner = await ScheduleRunner.start(schedule("offheap.ts"), { memoryMb: 64, batchTimeoutMs: 15_000 });
    try {
      const started = Date.now();
      const { scores } = await runner.score([ok("a"), { ...ok("b"), completion: "SPIN" }, ok("c")], trainingTime());
      assert.deepEqual(scores.map((s) => s.failure?.kind ?? s.total), [1, "out_of_memory", 1]);
      assert.match(scores[1]?.failure?.message ?? "", /outside the JS heap .* the process grew by \d+ MB during the batch, over the 192 MB allowed/);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      await runner.close();
    }
  });
  it("reports a ground truth of the wrong type as bad input naming the field, with a preset and with a schedule file", async () => {
    for (const source of [{ kind: "preset" as const, name: "tool-n1" }, { kind: "preset" as const, name: "toolrl" }, { kind: "preset" as const, name: "tool-zero" }, schedule("good.ts")]) {
      const runner = await ScheduleRunner.start(source);
      const { scores } = await runner.score([{ ...ok("n"), ground_truth: 5 }, { ...ok("o"), ground_truth: { x: 1 } }, ok("c")], trainingTime());
      await runner.close();
      const label = source.kind === "preset" ? source.name : "good.ts";
      assert.deepEqual(scores.map((s) => s.failure?.kind ?? "ok"), ["bad_input", "bad_input", "ok"], label);
      assert.deepEqual(scores.map((s) => s.failure?.field), ["ground_truth", "ground_truth", undefined], label);
      assert.match(scores[0]?.failure?.message ?? "", /^field "ground_truth" must be .*(list of|target string).*; got a number$/, label);
      assert.match(scores[1]?.failure?.message ?? "", /^field "ground_truth" must be .*; .*(an object|call 1)/, label);
    }
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

/**
 * A reward host process and a reader of what it writes. Every line it writes is checked against the
 * contract (contract/reward-host.schema.json), each reply as the answer to its method; close() fails on any
 * that does not follow it.
 */
class HostProcess {
  readonly child: ChildProcessWithoutNullStreams;
  private buffer = "";
  private lines: object[] = [];
  private waiters: { test: (m: { [k: string]: unknown }) => boolean; resolve: (m: { [k: string]: unknown }) => void }[] = [];
  stderr = "";
  /** Lines of stdout that are not protocol messages (JSON objects with an id or an event). */
  unreadable: string[] = [];
  /** Every line it wrote that was a message. */
  raw: string[] = [];
  /** Messages that do not follow the contract, with what is wrong. */
  outsideContract: string[] = [];
  private methods = new Map<unknown, string>();

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, "host", ...args]);
    this.child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      this.buffer += chunk;
      for (let i = this.buffer.indexOf("\n"); i !== -1; i = this.buffer.indexOf("\n")) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        let message: { [k: string]: unknown };
        try {
          message = JSON.parse(line) as { [k: string]: unknown };
        } catch {
          this.unreadable.push(line);
          continue;
        }
        if (message === null || typeof message !== "object" || Array.isArray(message) || !("id" in message || "event" in message)) {
          this.unreadable.push(line); // neither a reply nor an event: it broke the protocol
          continue;
        }
        this.raw.push(line);
        const method = "id" in message ? this.methods.get(message.id) : undefined;
        const def = "event" in message ? "HostEvent" : "error" in message ? "ErrorReply" : method ? (REPLY_DEF[method] ?? "HostReply") : "HostMessage";
        const wrong = problems("reward-host", def, message);
        if (wrong.length) this.outsideContract.push(`${def}: ${wrong.join("; ")}: ${line.slice(0, 300)}`);
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
    this.methods.set(id, method);
    this.child.stdin.write(JSON.stringify({ id, method, params }) + "\n");
    return this.next((m) => m.id === id);
  }

  async close(): Promise<number | null> {
    this.child.stdin.end();
    const code = await new Promise<number | null>((resolve) => this.child.on("exit", (c) => resolve(c)));
    assert.deepEqual(this.outsideContract, [], "the host wrote messages that do not follow contract/reward-host.schema.json");
    return code;
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

  it("answers every method as the contract says, and keeps a float argument a float", async () => {
    const file = path.join(dir, "contract.ts");
    copyFileSync(path.join(SCHEDULES, "good.ts"), file);
    const host = new HostProcess(["--schedule", file, "--watch"]);
    const ready = await host.next((m) => m.event === "ready");
    const completion = '<think>x</think><tool_call>[{"name": "f", "arguments": {"a": 40.0, "b": 40}}]</tool_call>';
    await host.request(1, "score", { step: 1, progress: 0.1, epoch: 0.2, samples: [{ id: "a", completion, ground_truth: '[{"name": "f", "arguments": {"a": 40.0, "b": 40}}]' }, bad("b")] });
    assert.ok(host.raw.some((line) => line.includes('"arguments":{"a":40.0,"b":40}')), "the parsed call keeps 40.0");
    await host.request(2, "version");
    await host.request(3, "weights", { times: [{ step: 0 }, { progress: 0.5 }] });
    assert.equal(((await host.request(4, "reload")).result as { unchanged?: boolean }).unchanged, true);
    const preset = await host.request(5, "load", { preset: "tool-zero", options: {} });
    assert.equal((preset.result as { accepted: boolean }).accepted, true);
    await host.next((m) => m.event === "reloaded");
    const refused = await host.request(6, "load", { schedule: path.join(SCHEDULES, "broken.ts") });
    assert.equal((refused.result as { accepted: boolean }).accepted, false);
    await host.next((m) => m.event === "reload_rejected");
    const back = await host.request(7, "load", { schedule: file });
    assert.equal((back.result as { version: string }).version, ready.version);
    await host.request(8, "score", { samples: [{ completion: "x" }] });
    await host.request(9, "shutdown");
    assert.equal(await host.close(), 0); // and every message followed the contract
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

  it("writes only protocol messages when the schedule prints: output in each score's logs, the rest as log events", async () => {
    const host = new HostProcess(["--schedule", path.join(SCHEDULES, "prints.ts")]);
    const ready = await host.next((m) => m.event === "ready");
    const loadLog = await host.next((m) => m.event === "log" && m.during === "load");
    assert.deepEqual(loadLog, { event: "log", version: ready.version, stream: "stdout", during: "load", text: "loading the printing schedule\n" });
    const reply = await host.request(1, "score", { samples: [ok("a"), { ...ok("b"), completion: "LATER" }] });
    const scores = (reply.result as { scores: { id: string; total: number; logs: { stream: string; text: string }[] }[] }).scores;
    assert.deepEqual(scores.map((s) => s.total), [1, 1]);
    assert.equal(scores[0]?.logs[0]?.text, '42\n{"id":1,"result":{"version":"printed","scores":[]}}\n{ id: 1, result: { scores: [] } }\n');
    const later = await host.next((m) => m.event === "log" && m.during === "late");
    assert.deepEqual(later, { event: "log", version: ready.version, stream: "stdout", during: "late", sample: "b", text: "printed later by b\n" });
    assert.equal((await host.request(2, "score", { samples: [ok("c")] })).id, 2);
    assert.equal(await host.close(), 0);
    assert.deepEqual(host.unreadable, []);
  });

  it("survives a schedule whose timer throws after its batch, and reports it as a log event of that sample", async () => {
    const host = new HostProcess(["--schedule", path.join(SCHEDULES, "late-errors.ts")]);
    await host.next((m) => m.event === "ready");
    const first = await host.request(1, "score", { samples: [ok("a"), { ...ok("b"), completion: "TIMER" }] });
    assert.deepEqual((first.result as { scores: { total: number }[] }).scores.map((s) => s.total), [1, 1]);
    const error = await host.next((m) => m.event === "log" && m.error === true);
    assert.equal(error.sample, "b");
    assert.match(error.text as string, /thrown later by a timer of b/);
    const second = await host.request(2, "score", { samples: [ok("c"), ok("d")] });
    assert.deepEqual((second.result as { scores: { total: number; failure: unknown }[] }).scores.map((s) => [s.total, s.failure]), [[1, null], [1, null]]);
    assert.equal(await host.close(), 0);
  });

  it("exits with a clear error when the schedule does not compile and it is not watching", async () => {
    const host = new HostProcess(["--schedule", path.join(SCHEDULES, "broken.ts")]);
    const failed = await host.next((m) => m.event === "load_failed");
    assert.match((failed.error as { message: string }).message, /broken\.ts:5/);
    assert.equal(await host.close(), 1);
  });
});
