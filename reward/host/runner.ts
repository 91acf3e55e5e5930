// Runs one version of a schedule in a worker thread with a time limit per batch and a memory limit.
// A sample that hangs or exhausts memory is marked as a reward failure; the worker is replaced and
// the rest of the batch is scored again. The host never goes down with the user's code.
//
// The memory limit covers the worker's JS heap (V8's limit) and, separately, its memory outside the
// heap: ArrayBuffers (typed arrays, Buffers), which the worker checks after every sample, and, as a
// backstop for one sample that allocates without returning or for native memory, the growth of the
// process's resident memory while a batch runs, which this thread polls.
//
// What the schedule prints outside a sample (at load, from timers) and errors its timers and promises
// throw after their sample's score was sent come here as ScheduleOutput, for `onOutput` (by default
// written to stderr, labelled). They never fail a sample other than the one that started the code.

import { existsSync } from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { TrainingTime } from "../api";
import type { RewardFailure, RewardScore } from "../score";
import { presetVersion } from "../version";
import { compileSchedule, type CompiledSchedule } from "./compile";
import type { ScheduleInfo, ScheduleSource } from "../../contract/types";
import type { CompactScores, ControlRequest, FromWorker, RangeViolation, ReplyParts, ScheduleOutput, Settled, Shard, ToWorker } from "./messages";

export type { ScheduleOutput } from "./messages";

/** What a runner scores with: a preset with options, or a schedule file (contract/reward-host.schema.json). */
export type { ScheduleInfo, ScheduleSource } from "../../contract/types";

export interface RunnerLimits {
  /** Wall time one batch may take before the sample in progress is declared hung. */
  batchTimeoutMs: number;
  /** Memory limit of the worker running user code: its JS heap, and separately its memory outside the heap. */
  memoryMb: number;
  /** Worker restarts allowed within one batch before the rest of it is failed. */
  maxRestartsPerBatch: number;
}

export const DEFAULT_LIMITS: RunnerLimits = { batchTimeoutMs: 30_000, memoryMb: 512, maxRestartsPerBatch: 4 };

/** Output or a late error of the schedule, with the version and schedule it came from. */
export type RunnerOutput = ScheduleOutput & { version: string; label: string };

export interface RunnerOptions {
  /** Where output outside a sample and late errors go; by default, to stderr with a label. */
  onOutput?: (output: RunnerOutput) => void;
  /** Workers of the pool this runner is one of (they share the process's memory). 1 by default. */
  poolSize?: number;
}

const MB = 1024 * 1024;
/** How often the process's resident memory is read while a batch runs. */
const RSS_POLL_MS = 100;

/** Writes a schedule's output to stderr, each line labelled with the version and where it came from. */
export function writeOutputToStderr(output: RunnerOutput): void {
  const where = output.during === "load" ? "while loading" : output.during === "late" ? `after the score of sample ${output.sample ?? "?"} was sent` : "outside any sample";
  const prefix = `[schedule ${output.version || output.label} ${output.error ? "error" : output.stream}, ${where}] `;
  process.stderr.write(output.text.replace(/\n$/, "").split("\n").map((line) => prefix + line).join("\n") + "\n");
}


export class LoadError extends Error {
  constructor(message: string, readonly details: string = "") {
    super(message);
    this.name = "LoadError";
  }
}

/** Where the built worker script is: beside this bundle, or in dist/ when running from source. */
export function workerScript(): string {
  const beside = path.join(__dirname, "reward-worker.cjs");
  if (existsSync(beside)) return beside;
  const fromSource = path.resolve(__dirname, "../../dist/reward-worker.cjs");
  if (existsSync(fromSource)) return fromSource;
  throw new LoadError(`the reward worker is not built (looked for ${beside}); run \`npm run build\``);
}

/** Listens to a worker's message, error and exit events until the returned function is called. */
function listen(worker: Worker, on: { message: (m: FromWorker) => void; error: (err: Error & { code?: string }) => void; exit: (code: number) => void }): () => void {
  worker.on("message", on.message);
  worker.on("error", on.error);
  worker.on("exit", on.exit);
  return () => {
    worker.off("message", on.message);
    worker.off("error", on.error);
    worker.off("exit", on.exit);
  };
}

/** How an attempt at a batch ended. `outside`: the worker had to be replaced for a cause outside the batch's samples. */
type Outcome = { kind: "done"; message: FromWorker } | { kind: "died"; index: number; failure: RewardFailure; outside?: boolean };

export class ScheduleRunner {
  private worker!: Worker;
  private progress = new SharedArrayBuffer(4);
  private batchCounter = 0;
  private loadMessage!: ToWorker;
  private closed = false;
  /** Workers this runner stopped on purpose: their exit is no news. */
  private retired = new WeakSet<Worker>();
  /** The worker died between batches (a timer called process.exit, say): the next batch starts a new one. */
  private dead = false;
  /** A batch is in flight: its own listeners deal with the worker's death. */
  private busy = false;
  private readonly onOutput: (output: RunnerOutput) => void;
  private readonly poolSize: number;
  info!: ScheduleInfo;
  version = "";
  /** The compiled source, for file schedules. */
  compiled: CompiledSchedule | null = null;

  private constructor(readonly source: ScheduleSource, readonly limits: RunnerLimits, options: RunnerOptions) {
    this.onOutput = options.onOutput ?? writeOutputToStderr;
    this.poolSize = Math.max(1, options.poolSize ?? 1);
  }

  /** Compiles (for a file) and loads a schedule in a fresh worker. Throws CompileError or LoadError. */
  static async start(source: ScheduleSource, limits: Partial<RunnerLimits> = {}, compiled?: CompiledSchedule, options: RunnerOptions = {}): Promise<ScheduleRunner> {
    const runner = new ScheduleRunner(source, { ...DEFAULT_LIMITS, ...limits }, options);
    if (source.kind === "file") {
      runner.compiled = compiled ?? (await compileSchedule(source.path));
      runner.loadMessage = { type: "load", code: runner.compiled.code, filename: runner.compiled.file };
      runner.version = runner.compiled.version; // known before loading: output at load carries it
    } else {
      runner.loadMessage = { type: "load", preset: { name: source.name, options: source.options ?? {} } };
    }
    await runner.spawn();
    runner.version = source.kind === "file" ? (runner.compiled as CompiledSchedule).version : presetVersion(source.name, runner.info.options);
    return runner;
  }

  /** Several runners of one version (compiled once), each with its own worker. */
  static async startMany(source: ScheduleSource, limits: Partial<RunnerLimits>, count: number, options: RunnerOptions = {}): Promise<ScheduleRunner[]> {
    const pooled = { ...options, poolSize: count };
    const first = await ScheduleRunner.start(source, limits, undefined, pooled);
    const rest = await Promise.all(Array.from({ length: count - 1 }, () => ScheduleRunner.start(source, limits, first.compiled ?? undefined, pooled)));
    return [first, ...rest];
  }

  get label(): string {
    return this.source.kind === "file" ? this.source.path : `preset ${this.source.name}`;
  }

  private output(output: ScheduleOutput): void {
    this.onOutput({ ...output, version: this.version, label: this.label });
  }

  /** Stops the current worker on purpose. */
  private retire(): Promise<number> {
    this.retired.add(this.worker);
    return this.worker.terminate();
  }

  private async spawn(): Promise<void> {
    const worker = new Worker(workerScript(), {
      workerData: { progress: this.progress, memoryMb: this.limits.memoryMb },
      resourceLimits: { maxOldGenerationSizeMb: this.limits.memoryMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, this.limits.memoryMb / 8)) },
      // The worker captures what the schedule prints; whatever still reaches its stdout/stderr comes
      // here, never to this process's stdout, which may be the host's protocol stream.
      stdout: true,
      stderr: true,
    });
    this.worker = worker;
    this.dead = false;
    worker.stdout.setEncoding("utf8").on("data", (text: string) => this.output({ stream: "stdout", text, during: "idle" }));
    worker.stderr.setEncoding("utf8").on("data", (text: string) => this.output({ stream: "stderr", text, during: "idle" }));
    // These stay for the worker's life: output and late errors come at any time, and a worker that dies
    // between batches must not take this process with it (an unheard 'error' event would).
    worker.on("message", (m: FromWorker) => {
      if (m.type !== "output") return;
      const { type: _type, ...output } = m;
      this.output(output);
    });
    worker.on("error", (err: Error) => {
      if (this.busy || this.retired.has(worker)) return;
      this.output({ stream: "stderr", text: `the reward worker failed outside any batch: ${err.stack ?? err.message}\n`, during: "idle", error: true });
    });
    worker.on("exit", (code) => {
      if (worker !== this.worker || this.retired.has(worker)) return;
      this.dead = true;
      if (!this.busy && !this.closed) this.output({ stream: "stderr", text: `the reward worker exited (code ${code}) outside any batch; a new one starts for the next batch\n`, during: "idle", error: true });
    });
    const loaded = await new Promise<FromWorker>((resolve, reject) => {
      const stop = listen(this.worker, {
        message: (m) => {
          if (m.type !== "loaded") return;
          stop();
          resolve(m);
        },
        error: (err) => {
          stop();
          reject(new LoadError(`the schedule crashed while loading: ${err.message}`, err.stack ?? ""));
        },
        exit: (code) => {
          stop();
          reject(new LoadError(`the reward worker exited with code ${code} while loading the schedule`));
        },
      });
      this.worker.postMessage(this.loadMessage);
    });
    if (loaded.type === "loaded" && !loaded.ok) {
      await this.retire();
      throw new LoadError(`${this.label}: ${loaded.error}`, loaded.stack);
    }
    if (loaded.type === "loaded" && loaded.ok) {
      this.info = { name: loaded.name, description: loaded.description, components: loaded.components, options: loaded.options };
    }
  }

  /** Scores a batch. Each sample gets a score or a reward failure; this only rejects when the runner is closed. */
  async score(samples: unknown[], time: TrainingTime, options: { check?: boolean } = {}): Promise<{ scores: RewardScore[]; violations?: RangeViolation[]; latencies?: number[] }> {
    const done = await this.withRecovery(samples.length, (batch, settled, rest) => ({ type: "score", batch, samples, time, version: this.version, settled, ...(rest ? { rest } : {}), check: options.check ?? false }));
    if (done.type !== "scored") throw new Error(`unexpected reply from the reward worker: ${done.type}`);
    return { scores: done.scores, ...(done.violations ? { violations: done.violations } : {}), ...(done.latencies ? { latencies: done.latencies } : {}) };
  }

  /**
   * Answers one request line of the host protocol in the worker: a score request comes back as the
   * reply's JSON text; other methods come back parsed, for the host to handle.
   */
  async request(line: string, lineNumber: number, shard?: Shard): Promise<{ reply: string; parts?: ReplyParts } | { control: ControlRequest }> {
    const done = await this.withRecovery(Infinity, (batch, settled, rest) => ({ type: "request", batch, line, lineNumber, version: this.version, settled, ...(rest ? { rest } : {}), ...(shard ? { shard } : {}) }));
    if (done.type === "reply") return done.parts ? { reply: done.text, parts: done.parts } : { reply: done.text };
    if (done.type === "control") return { control: done.request };
    throw new Error(`unexpected reply from the reward worker: ${done.type}`);
  }

  /** Replay: scores lines [from, to) of a stored rollout file, read in the worker; the answer comes in columns. */
  async scoreRecords(file: string, template: string | undefined, from: number, to: number, time: TrainingTime): Promise<CompactScores> {
    const done = await this.withRecovery(to - from, (batch, settled, rest) => ({ type: "records", batch, file, ...(template ? { template } : {}), from, to, time, version: this.version, settled, ...(rest ? { rest } : {}) }));
    if (done.type !== "replayed") throw new Error(`unexpected reply from the reward worker: ${done.type}`);
    if (done.error) throw new Error(done.error);
    return done.scores;
  }

  /** The samples a new version should be checked on, and the time they were scored at. */
  async recent(): Promise<{ samples: unknown[]; time: TrainingTime }> {
    const m = await this.exchange({ type: "recent" }, "recent");
    return m.type === "recent" ? { samples: m.samples, time: m.time } : { samples: [], time: { step: 0, progress: 0, epoch: 0 } };
  }

  /** The components' weights at the given times, for plotting a schedule. */
  async weights(times: TrainingTime[]): Promise<{ time: TrainingTime; weights: { [name: string]: number } }[]> {
    const m = await this.exchange({ type: "weights", times }, "weights");
    return m.type === "weights" ? m.rows : [];
  }

  /**
   * Sends a batch and waits for its answer. When the worker hangs or dies, the sample it was on is
   * settled as a reward failure, a fresh worker is started, and the batch goes again with the settled
   * samples marked, so the rest are still scored. A failure that cannot be tied to one sample, or too
   * many in one batch, fails the samples still open.
   */
  private async withRecovery(size: number, message: (batch: number, settled: Settled, rest?: RewardFailure) => ToWorker): Promise<FromWorker> {
    if (this.closed) throw new Error("the schedule runner is closed");
    if (this.dead) await this.spawn();
    const settled = new Map<number, RewardFailure>();
    for (let restarts = 0; ; restarts++) {
      const batch = ++this.batchCounter;
      const outcome = await this.attempt(batch, message(batch, [...settled]));
      if (outcome.kind === "done") return outcome.message;
      await this.spawn();
      // Not the batch's fault (memory taken between batches): the same batch again on the fresh worker.
      if (outcome.outside && restarts + 1 < this.limits.maxRestartsPerBatch) continue;
      const tied = outcome.index >= 0 && !settled.has(outcome.index);
      if (tied) settled.set(outcome.index, outcome.failure);
      if (tied && settled.size < size && restarts + 1 < this.limits.maxRestartsPerBatch) continue;
      // Give up on the batch: every sample still open gets the failure; the worker only writes the records.
      const rest: RewardFailure = tied ? { kind: outcome.failure.kind, message: `not scored: the schedule failed ${restarts + 1} times in this batch (last: ${outcome.failure.message})` } : outcome.failure;
      const finalBatch = ++this.batchCounter;
      const final = await this.attempt(finalBatch, message(finalBatch, [...settled], rest));
      if (final.kind === "done") return final.message;
      throw new Error(`the reward worker keeps failing: ${final.failure.message}`);
    }
  }

  /** Sends one message and waits for the answer of its kind. */
  private async exchange(message: ToWorker, type: FromWorker["type"]): Promise<FromWorker> {
    if (this.dead && !this.closed) await this.spawn();
    return new Promise((resolve) => {
      const onMessage = (m: FromWorker) => {
        if (m.type !== type) return;
        this.worker.off("message", onMessage);
        resolve(m);
      };
      this.worker.on("message", onMessage);
      this.worker.postMessage(message);
    });
  }

  private attempt(batch: number, message: ToWorker): Promise<Outcome> {
    const progress = new Int32Array(this.progress);
    Atomics.store(progress, 0, -1);
    const memoryMb = this.limits.memoryMb;
    // The backstop for memory the worker cannot see itself in time: one sample that allocates outside
    // the heap without returning, or native memory. Heap and off-heap may each grow to the limit.
    const rssAllowance = this.poolSize * (2 * memoryMb + 64) * MB;
    const rssAtStart = process.memoryUsage.rss();
    this.busy = true;
    return new Promise<Outcome>((resolve) => {
      const stopWorker = (outcome: Outcome) => {
        cleanup();
        void this.retire();
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        const index = Atomics.load(progress, 0);
        stopWorker({ kind: "died", index, failure: { kind: "timeout", message: `the reward took longer than the batch time limit of ${this.limits.batchTimeoutMs} ms on this sample (an endless loop?)` } });
      }, this.limits.batchTimeoutMs);
      const poll = setInterval(() => {
        const grown = process.memoryUsage.rss() - rssAtStart;
        if (grown <= rssAllowance) return;
        const index = Atomics.load(progress, 0);
        const message = `the reward used too much memory outside the JS heap (typed arrays, Buffers, native code) on this sample: the process grew by ${Math.round(grown / MB)} MB during the batch, over the ${Math.round(rssAllowance / MB)} MB allowed (the memory limit of ${memoryMb} MB for the heap and again for the rest, per worker, + 64 MB)`;
        stopWorker({ kind: "died", index, failure: { kind: "out_of_memory", message } });
      }, RSS_POLL_MS);
      const stop = listen(this.worker, {
        message: (m) => {
          if (!("batch" in m) || m.batch !== batch) return;
          if (m.type === "over_memory") {
            const held = `${Math.round(m.bytes / MB)} MB outside the JS heap (typed arrays, Buffers)`;
            if (m.index < 0) {
              const text = `the schedule held ${held} before a batch, over the memory limit of ${memoryMb} MB: taken outside any sample (at load, or by a timer); the worker is replaced and the batch scored again\n`;
              this.output({ stream: "stderr", text, during: "idle", error: true });
              return stopWorker({ kind: "died", index: -1, outside: true, failure: { kind: "out_of_memory", message: `the schedule keeps holding ${held} outside any sample, over the memory limit of ${memoryMb} MB` } });
            }
            return stopWorker({ kind: "died", index: m.index, failure: { kind: "out_of_memory", message: `the reward held ${held} after this sample, over the memory limit of ${memoryMb} MB` } });
          }
          settle({ kind: "done", message: m });
        },
        error: (err) => {
          const index = Atomics.load(progress, 0);
          const oom = err.code === "ERR_WORKER_OUT_OF_MEMORY";
          settle({
            kind: "died",
            index,
            failure: oom
              ? { kind: "out_of_memory", message: `the reward ran out of memory (limit ${this.limits.memoryMb} MB) on this sample` }
              : { kind: "crashed", message: `the reward crashed the worker: ${err.message}` },
          });
        },
        exit: (code) => {
          const index = Atomics.load(progress, 0);
          settle({ kind: "died", index, failure: { kind: "crashed", message: `the reward worker exited (code ${code}) on this sample` } });
        },
      });
      const cleanup = () => {
        clearTimeout(timer);
        clearInterval(poll);
        stop();
        this.busy = false;
      };
      const worker = this.worker;
      const settle = (outcome: Outcome) => {
        if (outcome.kind === "died") this.retired.add(worker); // a new worker replaces it: its exit is expected
        cleanup();
        resolve(outcome);
      };
      this.worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.retire();
  }
}
