// The reward host: a process that scores batches for the engine and the extension, speaking JSON Lines
// on stdin/stdout (docs/reward-host-protocol.md). It watches the schedule file and hot-reloads it:
// a new version is compiled, checked on recently seen samples, and switched in before the next batch;
// a version that fails to compile or fails the check is rejected and the last good one keeps serving.

import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { trainingTime, type TrainingTime } from "../api";
import { parsePyJson, type PyValue } from "../pyjson";
import { readTime } from "../samples";
import { CompileError } from "./compile";
import { LoadError, ScheduleRunner, type RunnerLimits, type ScheduleSource } from "./runner";

export interface HostOptions {
  source: ScheduleSource;
  limits?: Partial<RunnerLimits>;
  /** Reload the schedule file when it changes on disk. */
  watch?: boolean;
  /** How many recent samples a new version is checked on before it is switched in. */
  checkSamples?: number;
  input?: Readable;
  output?: Writable;
}

interface Request {
  id?: PyValue;
  method?: PyValue;
  params?: PyValue;
}

export function stringifyLine(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
  }
}

function describeLoadError(err: unknown): { message: string; errors?: unknown[] } {
  if (err instanceof CompileError) return { message: `the schedule does not compile:\n${err.message}`, errors: err.errors };
  if (err instanceof LoadError) return { message: err.message };
  return { message: (err as Error)?.message ?? String(err) };
}

/** Runs the host until its input ends or it is asked to shut down. Resolves with the exit code. */
export async function runHost(options: HostOptions): Promise<number> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const checkSize = options.checkSamples ?? 16;
  const send = (message: unknown) => output.write(stringifyLine(message) + "\n");

  let runner: ScheduleRunner | null = null;
  let loadError: { message: string; errors?: unknown[] } | null = null;
  try {
    runner = await ScheduleRunner.start(options.source, options.limits);
  } catch (err) {
    loadError = describeLoadError(err);
    send({ event: "load_failed", error: loadError });
    if (!(options.watch && options.source.kind === "file")) return 1;
  }
  if (runner) send({ event: "ready", version: runner.version, schedule: runner.info });

  // Recently seen samples and the time they were scored at: what a new version is checked on.
  let recent: unknown[] = [];
  let recentTime: TrainingTime = trainingTime();

  // Requests and reloads run one at a time, in order: a batch always finishes on the version it started with.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(task: () => Promise<T>): Promise<T> => {
    const next = queue.then(task, task);
    queue = next.catch(() => undefined);
    return next;
  };

  async function reload(reason: string): Promise<{ accepted: boolean; version: string | null; error?: unknown; unchanged?: boolean }> {
    let candidate: ScheduleRunner;
    try {
      candidate = await ScheduleRunner.start(options.source, options.limits);
    } catch (err) {
      const error = describeLoadError(err);
      send({ event: "reload_rejected", reason, error, version_kept: runner?.version ?? null });
      return { accepted: false, version: runner?.version ?? null, error };
    }
    if (runner && candidate.version === runner.version) {
      await candidate.close();
      return { accepted: true, version: runner.version, unchanged: true };
    }
    if (recent.length > 0) {
      const { scores, violations } = await candidate.score(recent, recentTime, { check: true });
      const problems = [
        ...scores.filter((s) => s.failure && s.failure.kind !== "bad_input").map((s) => `sample ${s.id ?? "?"}: ${s.failure?.message}`),
        ...(violations ?? []).map((v) => v.message),
      ];
      if (problems.length > 0) {
        await candidate.close();
        const error = { message: `version ${candidate.version} failed its check on ${recent.length} recent samples:\n${problems.slice(0, 10).join("\n")}`, problems };
        send({ event: "reload_rejected", reason, error, version_kept: runner?.version ?? null });
        return { accepted: false, version: runner?.version ?? null, error };
      }
    }
    const previous = runner?.version ?? null;
    const old = runner;
    runner = candidate;
    loadError = null;
    if (old) await old.close();
    send({ event: "reloaded", reason, version: candidate.version, previous, schedule: candidate.info });
    return { accepted: true, version: candidate.version };
  }

  let watcher: FSWatcher | null = null;
  if (options.watch && options.source.kind === "file") {
    const file = path.resolve(options.source.path);
    let timer: NodeJS.Timeout | null = null;
    // Watch the folder: editors often save by writing a new file and renaming it over the old one.
    watcher = watch(path.dirname(file), (_event, name) => {
      if (name !== null && name !== path.basename(file)) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void enqueue(() => reload("file changed")), 100);
    });
  }

  async function handle(line: string, lineNumber: number): Promise<boolean> {
    let request: Request;
    try {
      const parsed = parsePyJson(line);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("a request must be a JSON object");
      request = parsed as Request;
    } catch (err) {
      send({ id: null, error: { code: "bad_request", message: `request line ${lineNumber}: ${(err as Error).message}` } });
      return true;
    }
    const id = request.id ?? null;
    const reply = (result: unknown) => send({ id, result });
    const fail = (code: string, message: string, extra: object = {}) => send({ id, error: { code, message, ...extra } });
    const params = (request.params ?? {}) as { [key: string]: PyValue };
    switch (request.method) {
      case "score": {
        const samples = params.samples;
        if (!Array.isArray(samples)) return fail("bad_request", `request line ${lineNumber}: params.samples must be a list of samples`), true;
        const time = readTime(params, trainingTime());
        if (typeof time === "string") return fail("bad_request", `request line ${lineNumber}: params: ${time}`), true;
        await enqueue(async () => {
          if (!runner) return fail("no_schedule", `no schedule is loaded: ${loadError?.message ?? "unknown error"}`);
          const { scores } = await runner.score(samples, time);
          if (samples.length > 0) {
            const stride = Math.max(1, Math.floor(samples.length / checkSize));
            const picked: unknown[] = [];
            for (let i = 0; i < samples.length && picked.length < checkSize; i += stride) if (!scores[i]?.failure) picked.push(samples[i]);
            recent = picked.length > 0 ? picked : recent;
            recentTime = time;
          }
          reply({ version: runner.version, scores });
        });
        return true;
      }
      case "version":
        await enqueue(async () => (runner ? reply({ version: runner.version, schedule: runner.info, source: options.source }) : fail("no_schedule", `no schedule is loaded: ${loadError?.message}`)));
        return true;
      case "reload":
        await enqueue(async () => reply(await reload("requested")));
        return true;
      case "weights": {
        const times = params.times;
        if (!Array.isArray(times)) return fail("bad_request", `request line ${lineNumber}: params.times must be a list of {step, progress, epoch}`), true;
        const parsedTimes: TrainingTime[] = [];
        for (const t of times) {
          const read = readTime((t ?? {}) as object, trainingTime());
          if (typeof read === "string") return fail("bad_request", `request line ${lineNumber}: ${read}`), true;
          parsedTimes.push(read);
        }
        await enqueue(async () => (runner ? reply({ rows: await runner.weights(parsedTimes) }) : fail("no_schedule", "no schedule is loaded")));
        return true;
      }
      case "shutdown":
        await enqueue(async () => reply({ ok: true }));
        return false;
      default:
        fail("unknown_method", `request line ${lineNumber}: unknown method ${JSON.stringify(request.method)}; methods: score, version, reload, weights, shutdown`);
        return true;
    }
  }

  // Requests are parsed as they arrive (while the worker scores the previous batch) and run in order.
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  await new Promise<void>((resolve) => {
    lines.on("line", (line) => {
      lineNumber++;
      if (line.trim() === "") return;
      void handle(line, lineNumber).then((keepGoing) => {
        if (!keepGoing) lines.close();
      });
    });
    lines.on("close", resolve);
  });
  await queue;
  watcher?.close();
  await runner?.close();
  return 0;
}
