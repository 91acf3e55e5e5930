// The worker thread that runs a reward schedule. User code runs here, away from the host's thread,
// so the host can stop it when it loops and survive it when it runs out of memory.
//
// Before each sample the worker writes the sample's index into shared memory; when the host has to
// stop the worker, that index says which sample was running.

import { parentPort, workerData } from "node:worker_threads";
import { at, trainingTime, type AnySchedule, type TrainingTime } from "../api";
import { loadScheduleBundle } from "./load";
import { makePreset } from "../presets";
import { scoreSample, failedScore, type Locate, type RewardFailure, type RewardScore } from "../score";
import { ScheduleLocator } from "../attribution";
import { readTime, storedSample, toRewardSample, type StoredSampleFields } from "../samples";
import { readFileSync } from "node:fs";
import { parsePyJson, type PyValue } from "../pyjson";
import { stringifyLine } from "../wire";
import type { ToWorker, FromWorker, ComponentInfo, CompactScores, RangeViolation, Settled } from "./messages";

const progress = new Int32Array((workerData as { progress: SharedArrayBuffer }).progress);
let schedule: AnySchedule | null = null;
let locate: Locate | undefined;

process.setSourceMapsEnabled(true);

function post(message: FromWorker): void {
  parentPort?.postMessage(message);
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
    post({ type: "loaded", ok: true, name: schedule.name, description: schedule.description ?? "", components: describe(schedule, locator), options: schedule.options ?? {} });
  } catch (err) {
    const e = err as Error;
    post({ type: "loaded", ok: false, error: e?.message ?? String(err), stack: e?.stack ?? "" });
  }
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

/** Scores samples in order, writing the running index to shared memory; settled samples keep their failure. */
function scoreSamples(s: AnySchedule, samples: unknown[], time: TrainingTime, version: string, settled: Settled, rest?: RewardFailure, from = 0, to = samples.length, latencies?: number[]): RewardScore[] {
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
    scores[i - from] = typeof sample === "string" ? failedScore(id, version, { kind: "bad_input", message: `sample ${i + 1}: ${sample}` }) : scoreSample(s, sample, time, version, locate);
    if (latencies) latencies.push(performance.now() - started);
  }
  Atomics.store(progress, 0, -1);
  return scores;
}

function score(message: Extract<ToWorker, { type: "score" }>): void {
  const s = schedule;
  if (!s) return post({ type: "scored", batch: message.batch, scores: [], error: "no schedule is loaded" });
  const latencies = message.check ? [] : undefined;
  const scores = scoreSamples(s, message.samples, message.time, message.version, message.settled, message.rest, 0, message.samples.length, latencies);
  const violations = message.check ? rangeViolations(s, scores, message.time) : undefined;
  post({ type: "scored", batch: message.batch, scores, ...(violations ? { violations, latencies } : {}) });
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

function replyText(id: unknown, body: string): string {
  return `{"id":${stringifyLine(id ?? null)},${body}}`;
}

function request(message: Extract<ToWorker, { type: "request" }>): void {
  const where = `request line ${message.lineNumber}`;
  const error = (id: unknown, code: string, text: string) => post({ type: "reply", batch: message.batch, text: replyText(id, `"error":${stringifyLine({ code, message: `${where}: ${text}` })}`) });
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
    return post({ type: "control", batch: message.batch, request: { id, method: typeof method === "string" ? method : String(method), params: params as { [key: string]: unknown } } });
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
  const scores = scoreSamples(schedule, p.samples, time, message.version, message.settled, message.rest, from, to);
  remember(p.samples.slice(from, to), scores, time);
  const parts = { head: `{"id":${stringifyLine(id ?? null)},"result":{"version":${JSON.stringify(message.version)},"scores":[`, body: scores.length ? stringifyLine(scores).slice(1, -1) : "", tail: "]}}" };
  post({ type: "reply", batch: message.batch, text: parts.head + parts.body + parts.tail, parts });
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
  const scores = scoreSamples(s, samples, message.time, message.version, [...message.settled, ...unreadable], message.rest);
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
});
