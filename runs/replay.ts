// Replay: score stored rollouts with two reward versions and say what changes — which samples, by how
// much and in which component; how GRPO's group advantages move and which groups gain or lose all
// variance (a group whose rewards are all equal teaches nothing); the two reward distributions.
// Runs where user code may run (its own process: `rollout-studio replay`), never in VS Code's host.

import fs from "node:fs";
import path from "node:path";

import type { TrainingTime } from "../reward/api";
import { ScheduleRunner, type ScheduleSource } from "../reward/host/runner";
import type { RewardScore } from "../reward/score";
import type { RunInfo, TrajectoryRecord } from "./records";
import { readStoredSteps, sourceFor, wireSample, type VersionSpec } from "./stored";

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

/** GRPO's group advantages (as engine/rollout_engine/grpo.py): failures are left out and get 0. */
export function groupAdvantages(rewards: (number | null)[], scale: boolean, eps = 1e-6): number[] {
  const kept = rewards.filter((r): r is number => r !== null);
  if (kept.length < 2) return rewards.map(() => 0);
  const mean = kept.reduce((s, r) => s + r, 0) / kept.length;
  const std = Math.sqrt(kept.reduce((s, r) => s + (r - mean) ** 2, 0) / (kept.length - 1));
  return rewards.map((r) => (r === null ? 0 : scale ? (r - mean) / (std + eps) : r - mean));
}

function zeroVariance(rewards: (number | null)[]): boolean {
  const kept = rewards.filter((r): r is number => r !== null);
  return kept.length < 2 || kept.every((r) => r === kept[0]);
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

/** The stored score of a record, in the shape of a fresh one. */
function storedScore(record: TrajectoryRecord): Pick<RewardScore, "total" | "components" | "version"> & { failure: { message: string } | null } {
  return { total: record.reward, components: record.components, version: record.reward_version, failure: record.failure };
}

type Scorer = { label: string; score(step: number, time: TrainingTime, records: TrajectoryRecord[]): Promise<ReturnType<typeof storedScore>[]>; close(): Promise<void>; versions: Set<string> };

const CHUNK = 4096;

async function scorer(runDir: string, info: RunInfo, spec: VersionSpec, options: ReplayOptions): Promise<Scorer> {
  const template = info.config.data?.template;
  const source: ScheduleSource | null = sourceFor(runDir, info, spec);
  const versions = new Set<string>();
  if (!source) {
    return {
      label: "stored scores",
      versions,
      score: async (_step, _time, records) => records.map((r) => (versions.add(r.reward_version), storedScore(r))),
      close: async () => undefined,
    };
  }
  const runner = await ScheduleRunner.start(source, options.batchTimeoutMs ? { batchTimeoutMs: options.batchTimeoutMs } : {});
  versions.add(runner.version);
  const label = source.kind === "preset" ? `preset ${source.name}` : spec.kind === "version" ? `stored version ${spec.version}` : path.basename(source.path);
  // A stored version written beside its original file (it imports neighbours) is removed afterwards.
  const temporary = spec.kind === "version" && source.kind === "file" && path.basename(source.path).startsWith(".") ? source.path : null;
  return {
    label,
    versions,
    score: async (step, time, records) => {
      const out: ReturnType<typeof storedScore>[] = [];
      for (let i = 0; i < records.length; i += CHUNK) {
        const chunk = records.slice(i, i + CHUNK).map((r, k) => wireSample(r, template, `${step}/${i + k}`));
        const { scores } = await runner.score(chunk, time);
        for (const s of scores) out.push({ total: s.total, components: s.components, version: s.version, failure: s.failure });
      }
      return out;
    },
    close: async () => {
      await runner.close();
      if (temporary) fs.rmSync(temporary, { force: true });
    },
  };
}

export async function replay(runDir: string, info: RunInfo, options: ReplayOptions): Promise<ReplayReport> {
  const started = performance.now();
  const stored = readStoredSteps(runDir, info, options.steps);
  const readDone = performance.now();
  const groupSize = Number((info.config.grpo as { num_generations?: number } | undefined)?.num_generations ?? 1) || 1;
  const scale = (info.config.grpo as { scale_rewards?: boolean } | undefined)?.scale_rewards !== false;
  const [before, after] = await Promise.all([scorer(runDir, info, options.before, options), scorer(runDir, info, options.after, options)]);
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
  let scoreTime = 0;
  try {
    for (const { step, time, records } of stored) {
      const t0 = performance.now();
      const [a, b] = await Promise.all([before.score(step, time, records), after.score(step, time, records)]);
      scoreTime += performance.now() - t0;
      // Groups are consecutive runs of records with the same group number (the engine writes them in order).
      for (let start = 0; start < records.length; ) {
        let end = start;
        const g = (records[start] as TrajectoryRecord).group;
        while (end < records.length && (records[end] as TrajectoryRecord).group === g) end++;
        const rb = a.slice(start, end).map((s) => s.total);
        const ra = b.slice(start, end).map((s) => s.total);
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
          const record = records[i] as TrajectoryRecord;
          const sb = a[i] as ReturnType<typeof storedScore>;
          const sa = b[i] as ReturnType<typeof storedScore>;
          const k = i - start;
          samples++;
          if (sb.total === null) failuresBefore++;
          else totalsBefore.push(sb.total);
          if (sa.total === null) {
            failuresAfter++;
            if (sb.total !== null) newFailures.set(sa.failure?.message ?? "failed", (newFailures.get(sa.failure?.message ?? "failed") ?? 0) + 1);
          } else totalsAfter.push(sa.total);
          const delta = sb.total !== null && sa.total !== null ? sa.total - sb.total : null;
          const differs = (sb.total === null) !== (sa.total === null) || (delta !== null && Math.abs(delta) > 1e-12);
          if (differs) changed++;
          if (delta !== null && delta > 1e-12) increased++;
          if (delta !== null && delta < -1e-12) decreased++;
          const ab = advBefore[k] as number;
          const aa = advAfter[k] as number;
          absAdvantage += Math.abs(aa - ab);
          if (Math.sign(ab) !== Math.sign(aa) && ab !== 0 && aa !== 0) groups.signFlips++;
          const names = new Set([...Object.keys(sb.components ?? {}), ...Object.keys(sa.components ?? {})]);
          const pairs: Record<string, [number | null, number | null]> = {};
          for (const name of names) {
            const vb = sb.components?.[name]?.value ?? null;
            const va = sa.components?.[name]?.value ?? null;
            pairs[name] = [vb, va];
            const c = components.get(name) ?? { sumBefore: 0, nBefore: 0, sumAfter: 0, nAfter: 0, changed: 0 };
            if (vb !== null) (c.sumBefore += vb), c.nBefore++;
            if (va !== null) (c.sumAfter += va), c.nAfter++;
            if (vb !== va) c.changed++;
            components.set(name, c);
          }
          const row: ReplayedSample = { step, group: record.group, sample: record.sample, before: sb.total, after: sa.total, delta, components: pairs, advantageBefore: ab, advantageAfter: aa };
          if (sb.failure) row.failureBefore = sb.failure.message;
          if (sa.failure) row.failureAfter = sa.failure.message;
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
    seconds: { read: (readDone - started) / 1000, score: scoreTime / 1000, total: (performance.now() - started) / 1000 },
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
