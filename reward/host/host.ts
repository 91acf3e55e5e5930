// The reward host: a process that scores batches for the engine and the extension, speaking JSON Lines
// on stdin/stdout (docs/reward-host-protocol.md). It watches the schedule file and hot-reloads it:
// a new version is compiled, put through the contract check (host/contract.ts) on recently scored
// samples, and switched in before the next request; a version that fails to compile or fails the check
// is rejected and the last good one keeps serving.
//
// Request lines go to the workers as text and score replies come back as text: parsing and writing
// JSON there is cheaper than passing objects between threads. With several workers, each reads the
// line and scores its contiguous share of the samples; the host joins the shares in order. Each worker
// parses the whole request, so more workers pay only where cores are spare and schedules are slow.
// A schedule's module-level state is per worker.
//
// Nothing the schedule prints reaches stdout except as protocol messages: output while a sample is
// scored comes back in that sample's score (`logs`); output outside any sample, and errors its timers
// and promises throw after their sample's score was sent, come as `log` events (docs/reward-host-protocol.md).

import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { trainingTime, type TrainingTime } from "../api";
import { parsePyJson, type PyValue } from "../pyjson";
import { readTime } from "../samples";
import { stringifyLine } from "../wire";
import { CompileError } from "./compile";
import { checkContract, describeProblems } from "./contract";
import type { ControlRequest } from "./messages";
import type { ErrorReply, HostMessage, HostReply, LoadProblem, LoadResult, ReloadResult, RequestId, ShutdownReply, VersionReply, WeightsReply } from "../../contract/types";
import { LoadError, ScheduleRunner, type RunnerLimits, type RunnerOutput, type ScheduleSource } from "./runner";

export interface HostOptions {
  source: ScheduleSource;
  limits?: Partial<RunnerLimits>;
  /** Workers that share each batch (each scores a contiguous part). 1 by default: see docs/benchmarks.md. */
  workers?: number;
  /** Reload the schedule file when it changes on disk. */
  watch?: boolean;
  input?: Readable;
  output?: Writable;
}

export const METHODS = ["score", "version", "reload", "load", "weights", "shutdown"] as const;

function describeLoadError(err: unknown): LoadProblem {
  if (err instanceof CompileError) return { message: `the schedule does not compile:\n${err.message}`, errors: err.errors };
  if (err instanceof LoadError) return { message: err.message };
  return { message: (err as Error)?.message ?? String(err) };
}

/** Runs the host until its input ends or it is asked to shut down. Resolves with the exit code. */
export async function runHost(options: HostOptions): Promise<number> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  // Every line on stdout is a message of the protocol (contract/reward-host.schema.json).
  const send = (message: HostMessage) => output.write(stringifyLine(message) + "\n");
  // What a schedule prints outside a sample, or throws later: a `log` event, never a bare line.
  const onOutput = (o: RunnerOutput) =>
    send({ event: "log", version: o.version, stream: o.error ? "stderr" : o.stream, during: o.during, ...(o.sample !== undefined ? { sample: o.sample } : {}), ...(o.error ? { error: true } : {}), text: o.text });

  const workers = Math.max(1, Math.floor(options.workers ?? 1));
  // What the host scores with; `load` (push and rollback from the extension) replaces it.
  let source: ScheduleSource = options.source;
  // All workers of the pool run the same version; `runner` is the first, which answers everything but scores.
  let pool: ScheduleRunner[] = [];
  let runner: ScheduleRunner | null = null;
  let loadError: LoadProblem | null = null;
  try {
    pool = await ScheduleRunner.startMany(source, options.limits ?? {}, workers, { onOutput });
    runner = pool[0] as ScheduleRunner;
  } catch (err) {
    loadError = describeLoadError(err);
    send({ event: "load_failed", error: loadError });
    if (!(options.watch && source.kind === "file")) return 1;
  }
  if (runner) send({ event: "ready", version: runner.version, schedule: runner.info, workers });

  // Requests and reloads run one at a time, in order: a batch always finishes on the version it started with.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(task: () => Promise<T>): Promise<T> => {
    const next = queue.then(task, task);
    queue = next.catch(() => undefined);
    return next;
  };

  async function reload(reason: string, from: ScheduleSource = source): Promise<ReloadResult> {
    let candidates: ScheduleRunner[];
    try {
      candidates = await ScheduleRunner.startMany(from, options.limits ?? {}, workers, { onOutput });
    } catch (err) {
      const error = describeLoadError(err);
      send({ event: "reload_rejected", reason, error, version_kept: runner?.version ?? null });
      return { accepted: false, version: runner?.version ?? null, error };
    }
    const candidate = candidates[0] as ScheduleRunner;
    const discard = () => Promise.all(candidates.map((c) => c.close()));
    if (runner && candidate.version === runner.version) {
      await discard();
      source = from;
      return { accepted: true, version: runner.version, unchanged: true };
    }
    // Each worker remembers samples from its own share of recent batches.
    const shares = await Promise.all(pool.map((r) => r.recent()));
    const recent = { samples: shares.flatMap((share) => share.samples), time: shares.find((share) => share.samples.length > 0)?.time ?? trainingTime() };
    if (recent.samples.length > 0) {
      const report = await checkContract(candidate, [recent]);
      if (!report.ok) {
        await discard();
        const problems = describeProblems(report, 50);
        const error = { message: `version ${candidate.version} failed its check on ${recent.samples.length} recent samples:\n${problems.slice(0, 10).join("\n")}`, problems, report };
        send({ event: "reload_rejected", reason, error, version_kept: runner?.version ?? null });
        return { accepted: false, version: runner?.version ?? null, error };
      }
    }
    const previous = runner?.version ?? null;
    const old = pool;
    pool = candidates;
    runner = candidate;
    source = from;
    loadError = null;
    await Promise.all(old.map((r) => r.close()));
    send({ event: "reloaded", reason, version: candidate.version, previous, schedule: candidate.info, source });
    return { accepted: true, version: candidate.version };
  }

  let watcher: FSWatcher | null = null;
  /** Watches the current schedule file's folder (editors often save by writing a new file and renaming it). */
  const watchSource = () => {
    watcher?.close();
    watcher = null;
    if (!options.watch || source.kind !== "file") return;
    const file = path.resolve(source.path);
    let timer: NodeJS.Timeout | null = null;
    watcher = watch(path.dirname(file), (_event, name) => {
      if (name !== null && name !== path.basename(file)) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void enqueue(() => reload("file changed")), 100);
    });
  };
  watchSource();

  /** Handles a request that is not a score request. Returns false for shutdown. */
  async function control(request: ControlRequest, lineNumber: number): Promise<boolean> {
    const { method, params } = request;
    const id = request.id as RequestId; // echoed as the client sent it
    const reply = (result: VersionReply["result"] | ReloadResult | LoadResult | WeightsReply["result"] | ShutdownReply["result"]) => send({ id, result } as HostReply);
    const fail = (code: ErrorReply["error"]["code"], message: string) => send({ id, error: { code, message: `request line ${lineNumber}: ${message}` } });
    switch (method) {
      case "version":
        if (runner) reply({ version: runner.version, schedule: runner.info, source });
        else fail("no_schedule", `no schedule is loaded: ${loadError?.message ?? "unknown error"}`);
        return true;
      case "reload":
        reply(await reload("requested"));
        return true;
      case "load": {
        // Switch to another schedule file or preset (push, rollback): checked like any reload.
        const schedule = params.schedule;
        const preset = params.preset;
        let next: ScheduleSource;
        if (typeof schedule === "string" && schedule) next = { kind: "file", path: path.resolve(schedule) };
        else if (typeof preset === "string" && preset) next = { kind: "preset", name: preset, options: (params.options ?? {}) as { [key: string]: unknown } };
        else return fail("bad_request", "load needs params.schedule (a schedule file) or params.preset"), true;
        const result = await reload("loaded", next);
        if (result.accepted) watchSource();
        reply({ ...result, source });
        return true;
      }
      case "weights": {
        const times = params.times;
        if (!Array.isArray(times)) return fail("bad_request", "params.times must be a list of {step, progress, epoch}"), true;
        const parsed: TrainingTime[] = [];
        for (const t of times) {
          const read = readTime((t ?? {}) as object, trainingTime());
          if (typeof read === "string") return fail("bad_request", read), true;
          parsed.push(read);
        }
        if (runner) reply({ rows: await runner.weights(parsed) });
        else fail("no_schedule", "no schedule is loaded");
        return true;
      }
      case "shutdown":
        reply({ ok: true });
        return false;
      case "score":
        fail("no_schedule", `no schedule is loaded: ${loadError?.message ?? "unknown error"}`);
        return true;
      default:
        fail("unknown_method", `unknown method ${JSON.stringify(method)}; methods: ${METHODS.join(", ")}`);
        return true;
    }
  }

  /** Without a loaded schedule, requests are read here to say so. */
  function parseHere(line: string, lineNumber: number): ControlRequest | null {
    try {
      const parsed = parsePyJson(line) as { id?: PyValue; method?: PyValue; params?: PyValue };
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("a request must be a JSON object");
      return { id: (parsed.id ?? null) as RequestId | null, method: String(parsed.method), params: (parsed.params ?? {}) as { [key: string]: unknown } };
    } catch (err) {
      send({ id: null, error: { code: "bad_request", message: `request line ${lineNumber}: ${(err as Error).message}` } });
      return null;
    }
  }

  function handle(line: string, lineNumber: number): Promise<boolean> {
    return enqueue(async () => {
      if (!runner) {
        const request = parseHere(line, lineNumber);
        return request ? control(request, lineNumber) : true;
      }
      if (pool.length === 1) {
        const answer = await runner.request(line, lineNumber);
        if ("reply" in answer) {
          output.write(answer.reply + "\n");
          return true;
        }
        return control(answer.control, lineNumber);
      }
      const answers = await Promise.all(pool.map((r, index) => r.request(line, lineNumber, { index, count: pool.length })));
      const first = answers[0] as (typeof answers)[number];
      if ("control" in first) return control(first.control, lineNumber);
      const parts = answers.map((a) => ("parts" in a ? a.parts : undefined));
      if (!first.parts || parts.some((p) => p === undefined)) {
        output.write(first.reply + "\n"); // an error reply: every worker read the line the same way
        return true;
      }
      const bodies = parts.map((p) => (p as { body: string }).body).filter((b) => b !== "");
      output.write(first.parts.head + bodies.join(",") + first.parts.tail + "\n");
      return true;
    });
  }

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
  (watcher as FSWatcher | null)?.close();
  await Promise.all(pool.map((r) => r.close()));
  return 0;
}
