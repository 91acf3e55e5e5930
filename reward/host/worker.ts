// The worker thread that runs a reward schedule. User code runs here, away from the host's thread,
// so the host can stop it when it loops and survive it when it runs out of memory.
//
// Before each sample the worker writes the sample's index into shared memory; when the host has to
// stop the worker, that index says which sample was running.

import Module from "node:module";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import * as publicApi from "../index";
import { at, isSchedule, type RewardSample, type AnySchedule, type TrainingTime } from "../api";
import { makePreset } from "../presets";
import { scoreSample, failedScore, type RewardScore } from "../score";
import { toRewardSample } from "../samples";
import type { PyValue } from "../pyjson";
import type { ToWorker, FromWorker, ComponentInfo, RangeViolation } from "./messages";

const progress = new Int32Array((workerData as { progress: SharedArrayBuffer }).progress);
let schedule: AnySchedule | null = null;

process.setSourceMapsEnabled(true);

function post(message: FromWorker): void {
  parentPort?.postMessage(message);
}

/** Runs a compiled CommonJS bundle as a module whose `require("rollout-studio")` is this runtime's API. */
function loadBundle(code: string, filename: string): unknown {
  const mod = new Module(filename) as Module & { _compile(code: string, filename: string): void; paths: string[] };
  mod.filename = filename;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(filename));
  const nodeRequire = Module.createRequire(filename);
  // makeRequireFunction (inside _compile) calls mod.require, so this is what the bundle's require() reaches.
  mod.require = ((id: string) => (id === "rollout-studio" ? publicApi : nodeRequire(id))) as NodeJS.Require;
  mod._compile(code, filename);
  return mod.exports;
}

function describe(s: AnySchedule): ComponentInfo[] {
  return Object.entries(s.components).map(([name, c]) => ({ name, description: c.description ?? "", timedWeight: typeof c.weight === "function", timedRange: typeof c.range === "function" }));
}

function load(message: Extract<ToWorker, { type: "load" }>): void {
  try {
    let loaded: unknown;
    if (message.preset) loaded = makePreset(message.preset.name, message.preset.options);
    else {
      const exports = loadBundle(message.code ?? "", message.filename ?? "schedule.cjs") as { default?: unknown };
      loaded = exports.default ?? exports;
      if (!isSchedule(loaded)) {
        throw new Error("the schedule file must `export default defineSchedule({...})` (imported from \"rollout-studio\"); its default export is " + (loaded === undefined ? "missing" : `a ${typeof loaded}`));
      }
    }
    schedule = loaded as AnySchedule;
    post({ type: "loaded", ok: true, name: schedule.name, description: schedule.description ?? "", components: describe(schedule), options: schedule.options ?? {} });
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

function score(message: Extract<ToWorker, { type: "score" }>): void {
  const s = schedule;
  if (!s) {
    post({ type: "scored", batch: message.batch, scores: [], error: "no schedule is loaded" });
    return;
  }
  const scores: RewardScore[] = new Array(message.samples.length);
  const skip = new Set(message.skip ?? []);
  for (let i = 0; i < message.samples.length; i++) {
    Atomics.store(progress, 0, i);
    if (skip.has(i)) continue; // settled by the host (a sample that hung or crashed an earlier worker)
    const sample = toRewardSample(message.samples[i] as PyValue);
    if (typeof sample === "string") {
      const raw = message.samples[i] as { id?: unknown };
      scores[i] = failedScore(typeof raw?.id === "string" || typeof raw?.id === "number" ? { id: String(raw.id) } : {}, message.version, { kind: "bad_input", message: `sample ${i + 1}: ${sample}` });
      continue;
    }
    scores[i] = scoreSample(s, sample as RewardSample, message.time, message.version);
  }
  Atomics.store(progress, 0, -1);
  const violations = message.check ? rangeViolations(s, scores.filter(Boolean), message.time) : undefined;
  post({ type: "scored", batch: message.batch, scores, ...(violations ? { violations } : {}) });
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
    case "weights":
      return weights(message);
  }
});
