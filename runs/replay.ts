// Replay: score stored rollouts with two reward versions and say what changes — which samples, by how
// much and in which component; how GRPO's group advantages move and which groups gain or lose all
// variance (a group whose rewards are all equal teaches nothing); the two reward distributions.
// Runs where user code may run (its own process: `rollout-studio replay`), never in VS Code's host.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import type { TrainingTime } from "../reward/api";
import type { CompactScores } from "../reward/host/messages";
import { ScheduleRunner, type ScheduleSource } from "../reward/host/runner";
import { groupAdvantages, zeroVariance } from "./grpo";
import type { IndexRow, RunInfo } from "./records";
import { readJsonl, readRollouts, RunDirError, stepFiles } from "./runDir";
import { sourceFor, stepTimes, type VersionSpec } from "./stored";

/** One sample's two scores. */
export interface ReplayedSample {
  step: number;
  group: number;
  sample: number;
  before: number | null;
  after: number | null;
  /** after − before; null when either failed. */
  delta: number | null;
  /** Per component: [before, after] weighted values (a missing side is null). */
  components: Record<string, [number | null, number | null]>;
  failureBefore?: string;
  failureAfter?: string;
  advantageBefore: number;
  advantageAfter: number;
}

export interface ComponentChange {
  name: string;
  meanBefore: number | null;
  meanAfter: number | null;
  changed: number;
}

export interface Histogram {
  /** Bin edges, bins + 1 of them, shared by both sides. */
  edges: number[];
  before: number[];
  after: number[];
}

export interface ReplayReport {
  runDir: string;
  steps: number[];
  before: { label: string; versions: string[] };
  after: { label: string; versions: string[] };
  samples: number;
  /** Records a step's index lists that its rollout file no longer holds (they are reward failures when re-scored). */
  missingRecords: number;
  /** Samples whose total (or failure status) differs. */
  changed: number;
  increased: number;
  decreased: number;
  meanBefore: number | null;
  meanAfter: number | null;
  failuresBefore: number;
  failuresAfter: number;
  /** New reward failures' messages, most frequent first. */
  newFailures: { message: string; count: number }[];
  components: ComponentChange[];
  groups: {
    total: number;
    /** Groups with no variance before that have some after (they start to teach). */
    gainVariance: number;
    /** Groups that lose all variance (they stop teaching). */
    loseVariance: number;
    zeroVarianceBefore: number;
    zeroVarianceAfter: number;
    /** Samples whose advantage changes sign. */
    signFlips: number;
    meanAbsAdvantageChange: number;
  };
  histogram: Histogram;
  /** The largest changes, by |delta| (failures first). */
  top: ReplayedSample[];
  /** read: the stored scores; score: waiting for the workers (what comparing did not hide); total: all of it. */
  seconds: { read: number; score: number; total: number };
}

export interface ReplayOptions {
  steps: number[];
  before: VersionSpec;
  after: VersionSpec;
  /** How many of the largest changes to list. */
  top?: number;
  /** Write every sample's two scores here as JSON Lines. */
  samplesOut?: string;
  batchTimeoutMs?: number;
}

function histogram(before: number[], after: number[], bins = 20): Histogram {
  const all = before.concat(after);
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of all) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!Number.isFinite(lo)) return { edges: [], before: [], after: [] };
  if (hi === lo) hi = lo + 1;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  const count = (xs: number[]) => {
    const out = new Array<number>(bins).fill(0);
    for (const x of xs) {
      const bin = Math.min(bins - 1, Math.floor((x - lo) / width));
      out[bin] = (out[bin] as number) + 1;
    }
    return out;
  };
  return { edges, before: count(before), after: count(after) };
}

/** A stored step as replay needs it: where its records are, their groups, and the scores they got. */
interface StepRows {
  step: number;
  time: TrainingTime;
  file: string;
  count: number;
  groups: Int32Array;
  samples: Int32Array;
  stored: CompactScores;
  versions: string[];
  /** Records the index lists past the end of the rollout file (cut short or emptied since). */
  missing: number;
}

/** What replay reads of an index row (contract/run-directory.schema.json), or of a record when a step has no index. */
type IndexEntry = Pick<IndexRow, "group" | "sample" | "reward" | "components" | "failure" | "reward_version"> & Partial<Pick<IndexRow, "offset" | "length">>;

/** The stored scores of a step, from its compact index (docs/run-directory.md), else from its records. */
function readStep(runDir: string, step: number, file: string, time: TrainingTime): StepRows {
  let entries: IndexEntry[];
  let missing = 0;
  const index = path.join(runDir, "index", path.basename(file));
  if (fs.existsSync(index)) {
    entries = readJsonl<IndexEntry>(index, () => null).rows;
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {
      // A missing file holds none of the records.
    }
    for (const e of entries) if (typeof e.offset === "number" && typeof e.length === "number" && e.offset + e.length > size) missing++;
  } else {
    const { rows, bad } = readRollouts(file);
    // The workers score the file line by line: a line that does not read would shift every score after it.
    if (bad.length) throw new RunDirError(`${file} line ${bad[0]?.line}: ${bad[0]?.error}; replay needs every record of a step readable`);
    entries = rows.map((r) => ({
      group: r.group,
      sample: r.sample,
      reward: r.reward,
      components: Object.fromEntries(Object.entries(r.components ?? {}).map(([name, c]) => [name, c.value])),
      failure: r.failure?.message ?? null,
      reward_version: r.reward_version,
    }));
  }
  const n = entries.length;
  const stored: CompactScores = { totals: new Float64Array(n), failures: new Array<string | null>(n).fill(null), components: {} };
  const groups = new Int32Array(n);
  const samples = new Int32Array(n);
  const versions = new Set<string>();
  entries.forEach((e, i) => {
    groups[i] = e.group;
    samples[i] = e.sample;
    stored.totals[i] = e.reward ?? NaN;
    if (e.reward === null) stored.failures[i] = e.failure ?? "reward failure";
    versions.add(e.reward_version);
    for (const [name, value] of Object.entries(e.components ?? {})) (stored.components[name] ??= new Float64Array(n).fill(NaN))[i] = value;
  });
  return { step, time, file, count: n, groups, samples, stored, versions: [...versions], missing };
}

interface Scorer {
  label: string;
  versions: Set<string>;
  score(rows: StepRows): Promise<CompactScores>;
  close(): Promise<void>;
}

/** A shard's scores padded to `expected` rows: a record the rollout file no longer holds is a reward failure saying so. */
function withMissing(part: CompactScores, expected: number, from: number, rows: StepRows): CompactScores {
  const have = part.totals.length;
  if (have >= expected) return part;
  const totals = new Float64Array(expected).fill(NaN);
  totals.set(part.totals);
  const failures = part.failures.slice();
  for (let i = have; i < expected; i++) {
    failures.push(`missing record: ${rows.file} holds fewer records than the step's index lists (${rows.count}); record ${from + i + 1} (group ${rows.groups[from + i]}, sample ${rows.samples[from + i]}) is not in it, so it could not be scored`);
  }
  const components: CompactScores["components"] = {};
  for (const [name, column] of Object.entries(part.components)) {
    const padded = new Float64Array(expected).fill(NaN);
    padded.set(column);
    components[name] = padded;
  }
  return { totals, failures, components };
}

/** Joins the column blocks of consecutive shards. */
function concatScores(parts: CompactScores[], n: number): CompactScores {
  const out: CompactScores = { totals: new Float64Array(n), failures: [], components: {} };
  let at = 0;
  for (const part of parts) {
    out.totals.set(part.totals, at);
    out.failures.push(...part.failures);
    for (const [name, column] of Object.entries(part.components)) (out.components[name] ??= new Float64Array(n).fill(NaN)).set(column, at);
    at += part.totals.length;
  }
  return out;
}

async function scorer(runDir: string, info: RunInfo, spec: VersionSpec, options: ReplayOptions, workers: number): Promise<Scorer> {
  const template = info.config.data?.template;
  const source: ScheduleSource | null = sourceFor(runDir, info, spec);
  const versions = new Set<string>();
  if (!source) {
    return {
      label: "stored scores",
      versions,
      score: async (rows) => (rows.versions.forEach((v) => versions.add(v)), rows.stored),
      close: async () => undefined,
    };
  }
  const pool = await ScheduleRunner.startMany(source, options.batchTimeoutMs ? { batchTimeoutMs: options.batchTimeoutMs } : {}, workers);
  versions.add((pool[0] as ScheduleRunner).version);
  const label = source.kind === "preset" ? `preset ${source.name}` : spec.kind === "version" ? `stored version ${spec.version}` : path.basename(source.path);
  // A stored version written beside its original file (it imports neighbours) is removed afterwards.
  const temporary = spec.kind === "version" && source.kind === "file" && path.basename(source.path).startsWith(".") ? source.path : null;
  return {
    label,
    versions,
    // Each worker reads the step's file and scores a contiguous share of it.
    score: async (rows) => {
      const share = (k: number) => Math.floor((k * rows.count) / pool.length);
      const parts = await Promise.all(pool.map((runner, k) => runner.scoreRecords(rows.file, template, share(k), share(k + 1), rows.time)));
      // A worker answers for the lines its share of the file still holds: the rest are missing records.
      return concatScores(parts.map((part, k) => withMissing(part, share(k + 1) - share(k), share(k), rows)), rows.count);
    },
    close: async () => {
      await Promise.all(pool.map((r) => r.close()));
      if (temporary) fs.rmSync(temporary, { force: true });
    },
  };
}

/** A component's value for sample i, null when it has none. */
const value = (scores: CompactScores, name: string, i: number): number | null => {
  const x = scores.components[name]?.[i];
  return x === undefined || Number.isNaN(x) ? null : x;
};

const total = (scores: CompactScores, i: number): number | null => {
  const t = scores.totals[i] as number;
  return Number.isNaN(t) ? null : t;
};

export async function replay(runDir: string, info: RunInfo, options: ReplayOptions): Promise<ReplayReport> {
  const started = performance.now();
  const files = new Map(stepFiles(runDir).map((f) => [f.step, f.file]));
  const timeOf = stepTimes(runDir, info);
  const groupSize = Number((info.config.grpo as { num_generations?: number } | undefined)?.num_generations ?? 1) || 1;
  const scale = (info.config.grpo as { scale_rewards?: boolean } | undefined)?.scale_rewards !== false;
  const rescored = [options.before, options.after].filter((v) => v.kind !== "stored").length;
  // The cores go to the versions being scored; the main thread only compares.
  const workers = Math.max(1, Math.floor(Math.min(os.availableParallelism(), 8) / Math.max(1, rescored)));
  // Both versions start together; when one cannot start, the other's workers are closed before the error goes on.
  const scorers = await Promise.allSettled([scorer(runDir, info, options.before, options, workers), scorer(runDir, info, options.after, options, workers)]);
  const failed = scorers.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await Promise.all(scorers.map((s) => (s.status === "fulfilled" ? s.value.close() : undefined)));
    throw failed.reason;
  }
  const [before, after] = scorers.map((s) => (s as PromiseFulfilledResult<Scorer>).value) as [Scorer, Scorer];
  const out = options.samplesOut ? fs.openSync(options.samplesOut, "w") : null;
  const totalsBefore: number[] = [];
  const totalsAfter: number[] = [];
  const components = new Map<string, { sumBefore: number; nBefore: number; sumAfter: number; nAfter: number; changed: number }>();
  const newFailures = new Map<string, number>();
  const top: ReplayedSample[] = [];
  const topSize = options.top ?? 200;
  const groups = { total: 0, gainVariance: 0, loseVariance: 0, zeroVarianceBefore: 0, zeroVarianceAfter: 0, signFlips: 0, meanAbsAdvantageChange: 0 };
  let absAdvantage = 0;
  let samples = 0;
  let changed = 0;
  let increased = 0;
  let decreased = 0;
  let failuresBefore = 0;
  let failuresAfter = 0;
  let missingRecords = 0;
  let scoreTime = 0;
  let readTime = 0;
  try {
    // The workers score the next step while this thread compares the last one.
    const start = (step: number) => {
      const file = files.get(step);
      if (!file) throw new RunDirError(`step ${step} has no rollout file in ${runDir}`);
      const t0 = performance.now();
      const rows = readStep(runDir, step, file, timeOf(step));
      missingRecords += rows.missing;
      readTime += performance.now() - t0;
      const scored = Promise.all([before.score(rows), after.score(rows)]);
      scored.catch(() => undefined); // awaited below; a failure while the previous step is compared is not unhandled
      return { rows, scored };
    };
    let next = options.steps.length ? start(options.steps[0] as number) : null;
    for (let s = 0; s < options.steps.length; s++) {
      const step = options.steps[s] as number;
      const { rows, scored } = next as NonNullable<typeof next>;
      const t1 = performance.now();
      const [a, b] = await scored;
      scoreTime += performance.now() - t1;
      next = s + 1 < options.steps.length ? start(options.steps[s + 1] as number) : null;
      const names = [...new Set([...Object.keys(a.components), ...Object.keys(b.components)])];
      for (const name of names) if (!components.has(name)) components.set(name, { sumBefore: 0, nBefore: 0, sumAfter: 0, nAfter: 0, changed: 0 });
      // Groups are consecutive runs of records with the same group number (the engine writes them in order).
      for (let start = 0; start < rows.count; ) {
        let end = start;
        while (end < rows.count && rows.groups[end] === rows.groups[start]) end++;
        const rb: (number | null)[] = [];
        const ra: (number | null)[] = [];
        for (let i = start; i < end; i++) {
          rb.push(total(a, i));
          ra.push(total(b, i));
        }
        const advBefore = groupSize > 1 ? groupAdvantages(rb, scale) : rb.map(() => 0);
        const advAfter = groupSize > 1 ? groupAdvantages(ra, scale) : ra.map(() => 0);
        groups.total++;
        const zb = zeroVariance(rb);
        const za = zeroVariance(ra);
        if (zb) groups.zeroVarianceBefore++;
        if (za) groups.zeroVarianceAfter++;
        if (zb && !za) groups.gainVariance++;
        if (!zb && za) groups.loseVariance++;
        for (let i = start; i < end; i++) {
          const k = i - start;
          const tb = rb[k] as number | null;
          const ta = ra[k] as number | null;
          samples++;
          if (tb === null) failuresBefore++;
          else totalsBefore.push(tb);
          if (ta === null) {
            failuresAfter++;
            const message = b.failures[i] ?? "reward failure";
            if (tb !== null) newFailures.set(message, (newFailures.get(message) ?? 0) + 1);
          } else totalsAfter.push(ta);
          const delta = tb !== null && ta !== null ? ta - tb : null;
          const differs = (tb === null) !== (ta === null) || (delta !== null && Math.abs(delta) > 1e-12);
          if (differs) changed++;
          if (delta !== null && delta > 1e-12) increased++;
          if (delta !== null && delta < -1e-12) decreased++;
          const ab = advBefore[k] as number;
          const aa = advAfter[k] as number;
          absAdvantage += Math.abs(aa - ab);
          if (Math.sign(ab) !== Math.sign(aa) && ab !== 0 && aa !== 0) groups.signFlips++;
          for (const name of names) {
            const vb = value(a, name, i);
            const va = value(b, name, i);
            const c = components.get(name) as { sumBefore: number; nBefore: number; sumAfter: number; nAfter: number; changed: number };
            if (vb !== null) {
              c.sumBefore += vb;
              c.nBefore++;
            }
            if (va !== null) {
              c.sumAfter += va;
              c.nAfter++;
            }
            if (vb !== va) c.changed++;
          }
          // A row object only for what is kept: the samples file, or a change large enough for the top list.
          if (out === null && (!differs || (top.length === topSize && (delta === null ? Infinity : Math.abs(delta)) <= magnitude(top[top.length - 1] as ReplayedSample)))) continue;
          const pairs: Record<string, [number | null, number | null]> = {};
          for (const name of names) pairs[name] = [value(a, name, i), value(b, name, i)];
          const row: ReplayedSample = { step, group: rows.groups[i] as number, sample: rows.samples[i] as number, before: tb, after: ta, delta, components: pairs, advantageBefore: ab, advantageAfter: aa };
          const fb = a.failures[i];
          const fa = b.failures[i];
          if (fb) row.failureBefore = fb;
          if (fa) row.failureAfter = fa;
          if (out !== null) fs.writeSync(out, JSON.stringify(row) + "\n");
          if (differs) keepTop(top, row, topSize);
        }
        start = end;
      }
    }
  } finally {
    if (out !== null) fs.closeSync(out);
    await Promise.all([before.close(), after.close()]);
  }
  groups.meanAbsAdvantageChange = samples ? absAdvantage / samples : 0;
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
  return {
    runDir,
    steps: options.steps,
    before: { label: before.label, versions: [...before.versions] },
    after: { label: after.label, versions: [...after.versions] },
    samples,
    missingRecords,
    changed,
    increased,
    decreased,
    meanBefore: mean(totalsBefore),
    meanAfter: mean(totalsAfter),
    failuresBefore,
    failuresAfter,
    newFailures: [...newFailures].map(([message, count]) => ({ message, count })).sort((x, y) => y.count - x.count).slice(0, 20),
    components: [...components].map(([name, c]) => ({ name, meanBefore: c.nBefore ? c.sumBefore / c.nBefore : null, meanAfter: c.nAfter ? c.sumAfter / c.nAfter : null, changed: c.changed })),
    groups,
    histogram: histogram(totalsBefore, totalsAfter),
    top: top.sort(byChange),
    seconds: { read: readTime / 1000, score: scoreTime / 1000, total: (performance.now() - started) / 1000 },
  };
}

/** Failures first, then by |delta|. */
function magnitude(r: ReplayedSample): number {
  return r.delta === null ? Infinity : Math.abs(r.delta);
}

function byChange(a: ReplayedSample, b: ReplayedSample): number {
  return magnitude(b) - magnitude(a);
}

/** Keeps the `size` largest changes seen so far (a sorted list: sizes here are a few hundred). */
function keepTop(top: ReplayedSample[], row: ReplayedSample, size: number): void {
  if (top.length === size && magnitude(row) <= magnitude(top[top.length - 1] as ReplayedSample)) return;
  let i = top.length;
  while (i > 0 && magnitude(top[i - 1] as ReplayedSample) < magnitude(row)) i--;
  top.splice(i, 0, row);
  if (top.length > size) top.pop();
}
