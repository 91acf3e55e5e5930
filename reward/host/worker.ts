// The worker thread that runs a reward schedule. User code runs here, away from the host's thread,
// so the host can stop it when it loops and survive it when it runs out of memory.
//
// Before each sample the worker writes the sample's index into shared memory; when the host has to
// stop the worker, that index says which sample was running.
//
// What the schedule prints never reaches the host's stdout (the protocol stream): console.* and
// process.stdout/stderr.write are captured here. Output while a sample is scored goes into that
// sample's score (`logs`); output outside any sample goes to the host as an "output" message, labelled.
// Each sample is scored inside an AsyncLocalStorage context, so an error thrown later by a timer or a
// promise is tied to the sample that started it: it fails that sample when it comes before the batch's
// reply (the worker lets the event loop turn once before replying), and is reported with the sample's
// id after that. It never fails another sample, and never kills the worker.
//
// Memory outside the JS heap (typed arrays, Buffers) is not covered by the worker's heap limit: the
// worker checks it after loading and after every sample, and reports a sample after which it is over
// the limit (the host replaces the worker and fails that sample with out_of_memory).

import { AsyncLocalStorage } from "node:async_hooks";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import { at, trainingTime, type AnySchedule, type TrainingTime } from "../api";
import { loadScheduleBundle } from "./load";
import { makePreset } from "../presets";
import { scoreSample, failedScore, type Locate, type LogEntry, type RewardFailure, type RewardScore } from "../score";
import { ScheduleLocator } from "../attribution";
import { readTime, storedSample, toRewardSample, type StoredSampleFields } from "../samples";
import { readFileSync } from "node:fs";
import { parsePyJson, type PyValue } from "../pyjson";
import { stringifyLine } from "../wire";
import type { ToWorker, FromWorker, ComponentInfo, CompactScores, RangeViolation, ReplyParts, ScheduleOutput, Settled } from "./messages";
import type { ErrorReply, RequestId, Score, ScoreReply } from "../../contract/types";

const data = workerData as { progress: SharedArrayBuffer; memoryMb?: number };
const progress = new Int32Array(data.progress);
let schedule: AnySchedule | null = null;
let locate: Locate | undefined;

process.setSourceMapsEnabled(true);

function post(message: FromWorker): void {
  parentPort?.postMessage(message);
}

// ---- What the schedule prints, and what it throws later ---------------------------------------------

/** Characters of output kept per sample; the rest is counted and dropped. */
const SAMPLE_LOG_LIMIT = 8 * 1024;
/** Characters per second of output outside any sample passed on to the host; the rest is counted and dropped. */
const OUTSIDE_LIMIT_PER_SECOND = 64 * 1024;

interface SampleContext {
  batch: number;
  index: number;
  /** The sample's id, or #n (1-based) without one. */
  label: string;
}
const sampleContext = new AsyncLocalStorage<SampleContext>();

interface SampleLog {
  entries: LogEntry[];
  size: number;
  dropped: number;
}

/** The batch being scored, until its reply is posted: its samples' output, and errors thrown by code they started. */
interface OpenBatch {
  batch: number;
  logs: Map<number, SampleLog>;
  late: Map<number, RewardFailure>;
}
let open: OpenBatch | null = null;
let loading = false;

let windowStart = 0;
let windowUsed = 0;
let windowDropped = 0;

/** Output or an error outside any open sample: to the host, labelled, at most OUTSIDE_LIMIT_PER_SECOND characters a second. */
function outside(output: ScheduleOutput): void {
  const now = Date.now();
  if (now - windowStart >= 1000) {
    if (windowDropped > 0) post({ type: "output", stream: "stderr", during: "idle", text: `[${windowDropped} characters of the schedule's output were dropped: more than ${OUTSIDE_LIMIT_PER_SECOND / 1024} KiB a second]\n` });
    windowStart = now;
    windowUsed = 0;
    windowDropped = 0;
  }
  if (windowUsed + output.text.length > OUTSIDE_LIMIT_PER_SECOND) {
    windowDropped += output.text.length;
    return;
  }
  windowUsed += output.text.length;
  post({ type: "output", ...output });
}

function appendLog(batch: OpenBatch, index: number, stream: LogEntry["stream"], text: string): void {
  let log = batch.logs.get(index);
  if (!log) batch.logs.set(index, (log = { entries: [], size: 0, dropped: 0 }));
  const room = SAMPLE_LOG_LIMIT - log.size;
  const kept = text.length > room ? text.slice(0, Math.max(0, room)) : text;
  log.dropped += text.length - kept.length;
  if (kept === "") return;
  log.size += kept.length;
  const last = log.entries[log.entries.length - 1];
  if (last && last.stream === stream) last.text += kept;
  else log.entries.push({ stream, text: kept });
}

function chunkText(chunk: unknown, encoding: unknown): string {
  if (typeof chunk === "string") return typeof encoding === "string" && encoding !== "utf8" && encoding !== "utf-8" && Buffer.isEncoding(encoding) ? Buffer.from(chunk, encoding).toString("utf8") : chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8");
  return String(chunk);
}

/** Where output or an error outside an open sample came from: a sample whose batch was answered, loading, or neither. */
function outsideOrigin(context: SampleContext | undefined): Pick<ScheduleOutput, "during" | "sample"> {
  return context ? { during: "late", sample: context.label } : { during: loading ? "load" : "idle" };
}

function capture(stream: LogEntry["stream"], text: string): void {
  if (text === "") return;
  const context = sampleContext.getStore();
  if (context && open && context.batch === open.batch) return appendLog(open, context.index, stream, text);
  outside({ stream, text, ...outsideOrigin(context) });
}

/** console.* write to process.stdout/stderr: both are replaced, so nothing the schedule prints reaches the host's stdout. */
function captureStream(target: NodeJS.WriteStream, stream: LogEntry["stream"]): void {
  target.write = ((chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    capture(stream, chunkText(chunk, encoding));
    const done = typeof encoding === "function" ? encoding : callback;
    if (typeof done === "function") process.nextTick(done as () => void);
    return true;
  }) as NodeJS.WriteStream["write"];
}
captureStream(process.stdout, "stdout");
captureStream(process.stderr, "stderr");

/** An error thrown by a timer, promise or other callback of the schedule, after the code that started it returned. */
function lateError(err: unknown, how: string, context = sampleContext.getStore()): void {
  const message = err instanceof Error ? err.message : String(err);
  const stack = err instanceof Error && err.stack ? err.stack : message;
  if (context && open && context.batch === open.batch) {
    // Before the batch's reply: the sample that started it fails, with what was thrown.
    if (!open.late.has(context.index)) open.late.set(context.index, { kind: "exception", message: `${how} started while scoring this sample threw later: ${message}`, stack });
    return;
  }
  const origin = context ? `${how} started by sample ${context.label} threw after its score was sent` : `${how} started ${loading ? "while loading" : "outside any sample"} threw`;
  outside({ stream: "stderr", text: `${origin}: ${stack}\n`, error: true, ...outsideOrigin(context) });
}
process.on("uncaughtException", (err) => lateError(err, "a timer or callback"));
process.on("unhandledRejection", (reason) => lateError(reason, "a promise"));
// queueMicrotask does not carry the async context into an uncaught exception: keep it here.
const nativeQueueMicrotask = globalThis.queueMicrotask;
globalThis.queueMicrotask = (callback: () => void): void => {
  if (typeof callback !== "function") return nativeQueueMicrotask(callback);
  const context = sampleContext.getStore();
  nativeQueueMicrotask(() => {
    try {
      callback();
    } catch (err) {
      lateError(err, "a queueMicrotask callback", context);
    }
  });
};

// ---- Memory outside the JS heap ----------------------------------------------------------------------

const offHeapLimit = (data.memoryMb ?? 512) * 1024 * 1024;
/** A full collection, so that arrays already unreachable do not count against the limit. */
const collect: (() => void) | null = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  try {
    v8.setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return null;
  } finally {
    v8.setFlagsFromString("--no-expose-gc");
  }
})();

/**
 * Bytes of ArrayBuffer memory (typed arrays, Buffers) this worker holds when that is over its limit, else 0.
 * Cheap when under the limit (V8's external-memory count); exact, after a collection, when over it.
 */
function offHeapOverLimit(): number {
  if (v8.getHeapStatistics().external_memory <= offHeapLimit) return 0;
  if (process.memoryUsage().arrayBuffers <= offHeapLimit) return 0;
  collect?.();
  const held = process.memoryUsage().arrayBuffers;
  return held > offHeapLimit ? held : 0;
}

function describe(s: AnySchedule, locator: ScheduleLocator | null): ComponentInfo[] {
  let from = 0;
  return Object.entries(s.components).map(([name, c]) => {
    const info: ComponentInfo = { name, description: c.description ?? "", timedWeight: typeof c.weight === "function", timedRange: typeof c.range === "function" };
    // Components usually appear in source order: search on from the last one, so twins are told apart.
    const site = locator?.functionSite(c.score, from);
    if (site) {
      info.at = site.location;
      from = site.offset + 1;
    }
    return info;
  });
}

function load(message: Extract<ToWorker, { type: "load" }>): void {
  loading = true;
  try {
    let loaded: unknown;
    let locator: ScheduleLocator | null = null;
    if (message.preset) loaded = makePreset(message.preset.name, message.preset.options);
    else {
      locator = new ScheduleLocator(message.filename ?? "schedule.cjs", message.code ?? "");
      loaded = loadScheduleBundle(message.code ?? "", message.filename ?? "schedule.cjs");
    }
    schedule = loaded as AnySchedule;
    const found = locator;
    locate = found ? (result) => found.ruleSite(result) : undefined;
    const held = offHeapOverLimit();
    if (held) throw new Error(`the schedule holds ${megabytes(held)} MB outside the JS heap (typed arrays, Buffers) once loaded, over the memory limit of ${megabytes(offHeapLimit)} MB`);
    post({ type: "loaded", ok: true, name: schedule.name, description: schedule.description ?? "", components: describe(schedule, locator), options: schedule.options ?? {} });
  } catch (err) {
    const e = err as Error;
    post({ type: "loaded", ok: false, error: e?.message ?? String(err), stack: e?.stack ?? "" });
  } finally {
    loading = false;
  }
}

function megabytes(bytes: number): number {
  return Math.round(bytes / (1024 * 1024));
}

function rangeViolations(s: AnySchedule, scores: RewardScore[], t: TrainingTime): RangeViolation[] {
  const out: RangeViolation[] = [];
  for (const [name, c] of Object.entries(s.components)) {
    if (c.range === undefined) continue;
    let range: readonly [number, number];
    try {
      range = at(c.range, t, [-Infinity, Infinity] as const);
    } catch (err) {
      out.push({ sample: -1, component: name, value: NaN, range: [NaN, NaN], message: `component "${name}": range(t) threw: ${(err as Error).message}` });
      continue;
    }
    scores.forEach((score, i) => {
      const v = score.components[name]?.raw;
      if (v !== undefined && (v < range[0] - 1e-9 || v > range[1] + 1e-9)) {
        out.push({ sample: i, component: name, value: v, range: [range[0], range[1]], message: `component "${name}" gave ${v} on sample ${score.id ?? i + 1}, outside its declared range [${range[0]}, ${range[1]}]` });
      }
    });
  }
  return out;
}

/** Samples [from, to) of a batch, scored; or, when the worker went over its off-heap limit, the sample after which it did. */
type Scored = { scores: RewardScore[] } | { overAfter: number; bytes: number };

/**
 * Scores samples in order, writing the running index to shared memory; settled samples keep their failure.
 * Each sample is scored in its own async context (what it prints and throws later is tied to it), and
 * the worker's off-heap memory is checked after it.
 */
function scoreSamples(batch: number, s: AnySchedule, samples: unknown[], time: TrainingTime, version: string, settled: Settled, rest?: RewardFailure, from = 0, to = samples.length, latencies?: number[]): Scored {
  const known = new Map(settled);
  const scores: RewardScore[] = new Array(to - from);
  for (let i = from; i < to; i++) {
    Atomics.store(progress, 0, i);
    const raw = samples[i] as { id?: unknown } | null;
    const id = typeof raw?.id === "string" || typeof raw?.id === "number" ? { id: String(raw.id) } : {};
    const failure = known.get(i) ?? rest;
    if (failure) {
      scores[i - from] = failedScore(id, version, failure);
      continue;
    }
    const sample = toRewardSample(samples[i] as PyValue);
    const started = latencies ? performance.now() : 0;
    if (typeof sample === "string") scores[i - from] = failedScore(id, version, { kind: "bad_input", message: `sample ${i + 1}: ${sample}` });
    else {
      scores[i - from] = sampleContext.run({ batch, index: i, label: id.id ?? `#${i + 1}` }, scoreSample, s, sample, time, version, locate);
      const held = offHeapOverLimit();
      if (held) {
        Atomics.store(progress, 0, -1);
        return { overAfter: i, bytes: held };
      }
    }
    if (latencies) latencies.push(performance.now() - started);
  }
  Atomics.store(progress, 0, -1);
  return { scores };
}

/**
 * Runs a batch's scoring, then lets the event loop turn once before answering, so that promise
 * rejections and immediate callbacks the samples started are tied to them; puts each sample's output and
 * such late errors into its score. Over the off-heap limit (before the first sample or after one), it
 * reports that instead of answering: the host replaces this worker.
 */
function inBatch(batch: number, from: number, version: string, work: () => Scored, answer: (scores: RewardScore[]) => void): void {
  const before = offHeapOverLimit();
  if (before) return post({ type: "over_memory", batch, index: -1, bytes: before });
  const state: OpenBatch = { batch, logs: new Map(), late: new Map() };
  open = state;
  let scored: Scored;
  try {
    scored = work();
  } catch (err) {
    open = null;
    throw err;
  }
  if ("overAfter" in scored) {
    open = null;
    return post({ type: "over_memory", batch, index: scored.overAfter, bytes: scored.bytes });
  }
  const { scores } = scored;
  setImmediate(() => {
    open = null;
    for (const [index, failure] of state.late) {
      const old = scores[index - from];
      if (old && !old.failure) scores[index - from] = failedScore(old.id !== undefined ? { id: old.id } : {}, version, failure, { components: old.components, calls: old.calls, parseFailure: old.parseFailure });
    }
    for (const [index, log] of state.logs) {
      const score = scores[index - from];
      if (!score) continue;
      if (log.dropped > 0) log.entries.push({ stream: "stderr", text: `[${log.dropped} more characters of output not kept: ${SAMPLE_LOG_LIMIT / 1024} KiB per sample]\n` });
      score.logs = log.entries;
    }
    try {
      answer(scores);
    } catch (err) {
      internalError(err);
    }
  });
}

function score(message: Extract<ToWorker, { type: "score" }>): void {
  const s = schedule;
  if (!s) return post({ type: "scored", batch: message.batch, scores: [], error: "no schedule is loaded" });
  const latencies = message.check ? [] : undefined;
  inBatch(
    message.batch,
    0,
    message.version,
    () => scoreSamples(message.batch, s, message.samples, message.time, message.version, message.settled, message.rest, 0, message.samples.length, latencies),
    (scores) => {
      const violations = message.check ? rangeViolations(s, scores, message.time) : undefined;
      post({ type: "scored", batch: message.batch, scores, ...(violations ? { violations, latencies } : {}) });
    },
  );
}

// What a new version is checked on before the host switches to it: a spread of recently scored samples.
const RECENT = 16;
let recent: unknown[] = [];
let recentTime: TrainingTime = trainingTime();

function remember(samples: unknown[], scores: RewardScore[], time: TrainingTime): void {
  const stride = Math.max(1, Math.floor(samples.length / RECENT));
  const picked: unknown[] = [];
  for (let i = 0; i < samples.length && picked.length < RECENT; i += stride) if (!scores[i]?.failure) picked.push(samples[i]);
  if (picked.length > 0) {
    recent = picked;
    recentTime = time;
  }
}

/**
 * A score reply (contract/reward-host.schema.json, ScoreReply) as text, and in three parts so that the host
 * can join the scores of several workers in order: the reply with no scores, cut where they go.
 */
function scoreReply(id: PyValue, version: string, scores: Score[]): { text: string; parts: ReplyParts } {
  const empty = stringifyLine({ id: id as RequestId, result: { version, scores: [] } } satisfies ScoreReply);
  const at = empty.lastIndexOf('"scores":[]') + '"scores":['.length;
  const parts = { head: empty.slice(0, at), body: scores.length ? stringifyLine(scores).slice(1, -1) : "", tail: empty.slice(at) };
  return { text: parts.head + parts.body + parts.tail, parts };
}

function request(message: Extract<ToWorker, { type: "request" }>): void {
  const where = `request line ${message.lineNumber}`;
  const error = (id: PyValue, code: ErrorReply["error"]["code"], text: string) => post({ type: "reply", batch: message.batch, text: stringifyLine({ id: id as RequestId | null, error: { code, message: `${where}: ${text}` } } satisfies ErrorReply) });
  let parsed: PyValue;
  try {
    parsed = parsePyJson(message.line);
  } catch (err) {
    return error(null, "bad_request", (err as Error).message);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return error(null, "bad_request", "a request must be a JSON object");
  const { id = null, method, params = {} } = parsed as { id?: PyValue; method?: PyValue; params?: PyValue };
  if (params === null || typeof params !== "object" || Array.isArray(params)) return error(id, "bad_request", "params must be an object");
  if (method !== "score") {
    return post({ type: "control", batch: message.batch, request: { id: id as RequestId | null, method: typeof method === "string" ? method : String(method), params: params as { [key: string]: unknown } } });
  }
  const p = params as { samples?: PyValue; step?: unknown; progress?: unknown; epoch?: unknown; total_steps?: unknown };
  if (!Array.isArray(p.samples)) return error(id, "bad_request", "params.samples must be a list of samples");
  const time = readTime(p, trainingTime());
  if (typeof time === "string") return error(id, "bad_request", `params: ${time}`);
  if (!schedule) return error(id, "no_schedule", "no schedule is loaded");
  const count = message.shard?.count ?? 1;
  const index = message.shard?.index ?? 0;
  const from = Math.floor((index * p.samples.length) / count);
  const to = Math.floor(((index + 1) * p.samples.length) / count);
  const s = schedule;
  const samples = p.samples;
  inBatch(
    message.batch,
    from,
    message.version,
    () => scoreSamples(message.batch, s, samples, time, message.version, message.settled, message.rest, from, to),
    (scores) => {
      remember(samples.slice(from, to), scores, time);
      post({ type: "reply", batch: message.batch, ...scoreReply(id, message.version, scores) });
    },
  );
}

/** Replay: reads a stored rollout file's lines [from, to), scores them as the engine sent them, answers in columns. */
function records(message: Extract<ToWorker, { type: "records" }>): void {
  const s = schedule;
  if (!s) return post({ type: "replayed", batch: message.batch, scores: { totals: new Float64Array(0), failures: [], components: {} }, error: "no schedule is loaded" });
  let lines: string[];
  try {
    lines = readFileSync(message.file, "utf8").split("\n").filter((l) => l.trim() !== "").slice(message.from, message.to);
  } catch (err) {
    return post({ type: "replayed", batch: message.batch, scores: { totals: new Float64Array(0), failures: [], components: {} }, error: `cannot read ${message.file}: ${(err as Error).message}` });
  }
  // A line that is not JSON is a bad_input failure with the reader's message, settled before scoring.
  const unreadable: Settled = [];
  const samples = lines.map((line, i) => {
    try {
      return storedSample(JSON.parse(line) as StoredSampleFields, message.template, String(message.from + i));
    } catch (err) {
      unreadable.push([i, { kind: "bad_input", message: `line ${message.from + i + 1} of ${message.file}: ${(err as Error).message}` }]);
      return null;
    }
  });
  inBatch(
    message.batch,
    0,
    message.version,
    () => scoreSamples(message.batch, s, samples, message.time, message.version, [...message.settled, ...unreadable], message.rest),
    (scores) => {
      const n = scores.length;
      const out: CompactScores = { totals: new Float64Array(n), failures: new Array<string | null>(n).fill(null), components: {} };
      scores.forEach((score, i) => {
        out.totals[i] = score.total ?? NaN;
        if (score.failure) out.failures[i] = score.failure.message;
        for (const name in score.components) {
          const column = (out.components[name] ??= new Float64Array(n).fill(NaN));
          column[i] = (score.components[name] as { value: number }).value;
        }
      });
      post({ type: "replayed", batch: message.batch, scores: out });
    },
  );
}

function weights(message: Extract<ToWorker, { type: "weights" }>): void {
  const s = schedule;
  if (!s) return post({ type: "weights", rows: [] });
  const rows = message.times.map((t) => {
    const row: { [name: string]: number } = {};
    for (const [name, c] of Object.entries(s.components)) row[name] = at(c.weight, t, 1);
    return { time: t, weights: row };
  });
  post({ type: "weights", rows });
}

parentPort?.on("message", (message: ToWorker) => {
  try {
    dispatch(message);
  } catch (err) {
    internalError(err);
  }
});

/**
 * A fault of this worker's own code, not the schedule's (that is caught where it runs): ends the worker
 * so the host sees it (the sample in progress fails as `crashed`), as it did before errors thrown later
 * were caught above.
 */
function internalError(err: unknown): never {
  const e = err as Error;
  post({ type: "output", stream: "stderr", during: "idle", error: true, text: `internal error of the reward worker: ${e?.stack ?? String(err)}\n` });
  process.exit(70);
}

function dispatch(message: ToWorker): void {
  switch (message.type) {
    case "load":
      return load(message);
    case "score":
      return score(message);
    case "request":
      return request(message);
    case "records":
      return records(message);
    case "recent":
      return post({ type: "recent", samples: recent, time: recentTime });
    case "weights":
      return weights(message);
  }
}
