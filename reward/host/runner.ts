// Runs one version of a schedule in a worker thread with a time limit per batch and a memory limit.
// A sample that hangs or exhausts memory is marked as a reward failure; the worker is replaced and
// the rest of the batch is scored again. The host never goes down with the user's code.

import { existsSync } from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { TrainingTime } from "../api";
import type { RewardFailure, RewardScore } from "../score";
import { presetVersion } from "../version";
import { compileSchedule, type CompiledSchedule } from "./compile";
import type { CompactScores, ComponentInfo, ControlRequest, FromWorker, RangeViolation, ReplyParts, Settled, Shard, ToWorker } from "./messages";

export type ScheduleSource = { kind: "preset"; name: string; options?: { [key: string]: unknown } } | { kind: "file"; path: string };

export interface RunnerLimits {
  /** Wall time one batch may take before the sample in progress is declared hung. */
  batchTimeoutMs: number;
  /** Heap limit of the worker running user code. */
  memoryMb: number;
  /** Worker restarts allowed within one batch before the rest of it is failed. */
  maxRestartsPerBatch: number;
}

export const DEFAULT_LIMITS: RunnerLimits = { batchTimeoutMs: 30_000, memoryMb: 512, maxRestartsPerBatch: 4 };

export interface ScheduleInfo {
  name: string;
  description: string;
  components: ComponentInfo[];
  options: { [key: string]: unknown };
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

type Outcome = { kind: "done"; message: FromWorker } | { kind: "died"; index: number; failure: RewardFailure };

export class ScheduleRunner {
  private worker!: Worker;
  private progress = new SharedArrayBuffer(4);
  private batchCounter = 0;
  private loadMessage!: ToWorker;
  private closed = false;
  info!: ScheduleInfo;
  version!: string;
  /** The compiled source, for file schedules. */
  compiled: CompiledSchedule | null = null;

  private constructor(readonly source: ScheduleSource, readonly limits: RunnerLimits) {}

  /** Compiles (for a file) and loads a schedule in a fresh worker. Throws CompileError or LoadError. */
  static async start(source: ScheduleSource, limits: Partial<RunnerLimits> = {}, compiled?: CompiledSchedule): Promise<ScheduleRunner> {
    const runner = new ScheduleRunner(source, { ...DEFAULT_LIMITS, ...limits });
    if (source.kind === "file") {
      runner.compiled = compiled ?? (await compileSchedule(source.path));
      runner.loadMessage = { type: "load", code: runner.compiled.code, filename: runner.compiled.file };
    } else {
      runner.loadMessage = { type: "load", preset: { name: source.name, options: source.options ?? {} } };
    }
    await runner.spawn();
    runner.version = source.kind === "file" ? (runner.compiled as CompiledSchedule).version : presetVersion(source.name, runner.info.options);
    return runner;
  }

  /** Several runners of one version (compiled once), each with its own worker. */
  static async startMany(source: ScheduleSource, limits: Partial<RunnerLimits>, count: number): Promise<ScheduleRunner[]> {
    const first = await ScheduleRunner.start(source, limits);
    const rest = await Promise.all(Array.from({ length: count - 1 }, () => ScheduleRunner.start(source, limits, first.compiled ?? undefined)));
    return [first, ...rest];
  }

  get label(): string {
    return this.source.kind === "file" ? this.source.path : `preset ${this.source.name}`;
  }

  private async spawn(): Promise<void> {
    this.worker = new Worker(workerScript(), {
      workerData: { progress: this.progress },
      resourceLimits: { maxOldGenerationSizeMb: this.limits.memoryMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, this.limits.memoryMb / 8)) },
      stdout: false,
      stderr: false,
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
      await this.worker.terminate();
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
    const settled = new Map<number, RewardFailure>();
    for (let restarts = 0; ; restarts++) {
      const batch = ++this.batchCounter;
      const outcome = await this.attempt(batch, message(batch, [...settled]));
      if (outcome.kind === "done") return outcome.message;
      await this.spawn();
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
  private exchange(message: ToWorker, type: FromWorker["type"]): Promise<FromWorker> {
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
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        const index = Atomics.load(progress, 0);
        cleanup();
        void this.worker.terminate();
        resolve({ kind: "died", index, failure: { kind: "timeout", message: `the reward took longer than the batch time limit of ${this.limits.batchTimeoutMs} ms on this sample (an endless loop?)` } });
      }, this.limits.batchTimeoutMs);
      const stop = listen(this.worker, {
        message: (m) => {
          if (!("batch" in m) || m.batch !== batch) return;
          cleanup();
          resolve({ kind: "done", message: m });
        },
        error: (err) => {
          const index = Atomics.load(progress, 0);
          cleanup();
          const oom = err.code === "ERR_WORKER_OUT_OF_MEMORY";
          resolve({
            kind: "died",
            index,
            failure: oom
              ? { kind: "out_of_memory", message: `the reward ran out of memory (limit ${this.limits.memoryMb} MB) on this sample` }
              : { kind: "crashed", message: `the reward crashed the worker: ${err.message}` },
          });
        },
        exit: (code) => {
          const index = Atomics.load(progress, 0);
          cleanup();
          resolve({ kind: "died", index, failure: { kind: "crashed", message: `the reward worker exited (code ${code}) on this sample` } });
        },
      });
      const cleanup = () => {
        clearTimeout(timer);
        stop();
      };
      this.worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}
