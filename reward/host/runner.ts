// Runs one version of a schedule in a worker thread with a time limit per batch and a memory limit.
// A sample that hangs or exhausts memory is marked as a reward failure; the worker is replaced and
// the rest of the batch is scored again. The host never goes down with the user's code.

import { existsSync } from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { TrainingTime } from "../api";
import { failedScore, type RewardFailure, type RewardScore } from "../score";
import { presetVersion } from "../version";
import { compileSchedule, type CompiledSchedule } from "./compile";
import type { ComponentInfo, FromWorker, RangeViolation, ToWorker } from "./messages";

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

type Outcome = { kind: "done"; scores: RewardScore[]; violations?: RangeViolation[] } | { kind: "died"; index: number; failure: RewardFailure };

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
  static async start(source: ScheduleSource, limits: Partial<RunnerLimits> = {}): Promise<ScheduleRunner> {
    const runner = new ScheduleRunner(source, { ...DEFAULT_LIMITS, ...limits });
    if (source.kind === "file") {
      runner.compiled = await compileSchedule(source.path);
      runner.loadMessage = { type: "load", code: runner.compiled.code, filename: runner.compiled.file };
    } else {
      runner.loadMessage = { type: "load", preset: { name: source.name, options: source.options ?? {} } };
    }
    await runner.spawn();
    runner.version = source.kind === "file" ? (runner.compiled as CompiledSchedule).version : presetVersion(source.name, runner.info.options);
    return runner;
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
      const onMessage = (m: FromWorker) => {
        if (m.type !== "loaded") return;
        cleanup();
        resolve(m);
      };
      const onError = (err: Error) => {
        cleanup();
        reject(new LoadError(`the schedule crashed while loading: ${err.message}`, err.stack ?? ""));
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new LoadError(`the reward worker exited with code ${code} while loading the schedule`));
      };
      const cleanup = () => {
        this.worker.off("message", onMessage);
        this.worker.off("error", onError);
        this.worker.off("exit", onExit);
      };
      this.worker.on("message", onMessage);
      this.worker.on("error", onError);
      this.worker.on("exit", onExit);
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
  async score(samples: unknown[], time: TrainingTime, options: { check?: boolean } = {}): Promise<{ scores: RewardScore[]; violations?: RangeViolation[] }> {
    if (this.closed) throw new Error("the schedule runner is closed");
    const settled = new Map<number, RewardFailure>();
    for (let restarts = 0; ; restarts++) {
      const outcome = await this.attempt(samples, time, [...settled.keys()], options.check ?? false);
      if (outcome.kind === "done") {
        for (const [i, failure] of settled) outcome.scores[i] = this.failed(samples[i], failure);
        return outcome.violations ? { scores: outcome.scores, violations: outcome.violations } : { scores: outcome.scores };
      }
      const unsettled = samples.map((_, i) => i).filter((i) => !settled.has(i));
      if (outcome.index >= 0 && !settled.has(outcome.index)) settled.set(outcome.index, outcome.failure);
      else for (const i of unsettled) settled.set(i, outcome.failure); // could not tell which sample: fail the rest
      await this.spawn();
      if (restarts + 1 >= this.limits.maxRestartsPerBatch || settled.size === samples.length) {
        const giveUp: RewardFailure = { kind: outcome.failure.kind, message: `not scored: the schedule failed ${restarts + 1} times in this batch (last: ${outcome.failure.message})` };
        return { scores: samples.map((s, i) => this.failed(s, settled.get(i) ?? giveUp)) };
      }
    }
  }

  private failed(sample: unknown, failure: RewardFailure): RewardScore {
    const id = (sample as { id?: unknown } | null)?.id;
    return failedScore(typeof id === "string" || typeof id === "number" ? { id: String(id) } : {}, this.version, failure);
  }

  private attempt(samples: unknown[], time: TrainingTime, skip: number[], check: boolean): Promise<Outcome> {
    const batch = ++this.batchCounter;
    const progress = new Int32Array(this.progress);
    Atomics.store(progress, 0, -1);
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        const index = Atomics.load(progress, 0);
        cleanup();
        void this.worker.terminate();
        resolve({ kind: "died", index, failure: { kind: "timeout", message: `the reward took longer than the batch time limit of ${this.limits.batchTimeoutMs} ms on this sample (an endless loop?)` } });
      }, this.limits.batchTimeoutMs);
      const onMessage = (m: FromWorker) => {
        if (m.type !== "scored" || m.batch !== batch) return;
        cleanup();
        resolve(m.violations ? { kind: "done", scores: m.scores, violations: m.violations } : { kind: "done", scores: m.scores });
      };
      const onError = (err: Error & { code?: string }) => {
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
      };
      const onExit = (code: number) => {
        const index = Atomics.load(progress, 0);
        cleanup();
        resolve({ kind: "died", index, failure: { kind: "crashed", message: `the reward worker exited (code ${code}) on this sample` } });
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.worker.off("message", onMessage);
        this.worker.off("error", onError);
        this.worker.off("exit", onExit);
      };
      this.worker.on("message", onMessage);
      this.worker.on("error", onError);
      this.worker.on("exit", onExit);
      const message: ToWorker = { type: "score", batch, samples, time, version: this.version, skip, check };
      this.worker.postMessage(message);
    });
  }

  /** The components' weights at the given times, for plotting a schedule. */
  async weights(times: TrainingTime[]): Promise<{ time: TrainingTime; weights: { [name: string]: number } }[]> {
    return new Promise((resolve) => {
      const onMessage = (m: FromWorker) => {
        if (m.type !== "weights") return;
        this.worker.off("message", onMessage);
        resolve(m.rows);
      };
      this.worker.on("message", onMessage);
      this.worker.postMessage({ type: "weights", times } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}
