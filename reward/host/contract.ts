// The contract check a schedule version passes before it may score a live run: run it twice on stored
// samples and look for exceptions, non-finite values, values outside declared ranges, results that
// differ between the two runs, and slow samples. The reward host runs it before a hot reload; the
// extension runs it on save and shows the problems in the Problems panel (`rollout-studio check`).

import path from "node:path";
import type { CheckProblem } from "../../contract/types";
import type { TrainingTime } from "../api";
import type { SourceLocation } from "../attribution";
import type { RewardScore } from "../score";
import type { ScheduleRunner } from "./runner";

// A problem is part of the reward-host protocol (check and reload replies): contract/ defines it.
export type ContractProblem = CheckProblem;
export type ContractProblemKind = CheckProblem["kind"];

export interface ContractReport {
  version: string;
  samples: number;
  ok: boolean;
  problems: ContractProblem[];
  /** Time to score one sample, in milliseconds (first of the two runs). */
  latencyMs: { mean: number; p95: number; max: number } | null;
}

export interface ContractOptions {
  /** A sample slower than this (ms) is reported as slow (a warning). */
  slowSampleMs?: number;
}

export const DEFAULT_SLOW_SAMPLE_MS = 50;

/** The first stack frame in the user's code (not Rollout Studio's, not node_modules), as a location. */
export function frameLocation(stack: string | undefined, scheduleFile: string): SourceLocation | undefined {
  if (!stack) return undefined;
  const folder = path.dirname(scheduleFile);
  for (const line of stack.split("\n").slice(1)) {
    const match = /\(?((?:[A-Za-z]:)?[^():]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!match) continue;
    const file = match[1] as string;
    if (!path.isAbsolute(file) || file.includes(`${path.sep}node_modules${path.sep}`) || /reward-worker\.cjs$|cli\.cjs$/.test(file)) continue;
    const location: SourceLocation = { line: Number(match[2]), column: Number(match[3]) };
    if (file !== scheduleFile) location.file = path.relative(folder, file);
    return location;
  }
  return undefined;
}

function same(a: RewardScore, b: RewardScore): string | null {
  if ((a.failure === null) !== (b.failure === null)) return a.failure ? `failed the first time (${a.failure.message}), not the second` : `failed the second time (${b.failure?.message}), not the first`;
  if (a.total !== b.total && !(Number.isNaN(a.total) && Number.isNaN(b.total))) return `total ${a.total} then ${b.total}`;
  for (const [name, c] of Object.entries(a.components)) {
    const other = b.components[name];
    if (!other || other.raw !== c.raw) return `component "${name}" gave ${c.raw} then ${other?.raw}`;
  }
  return null;
}

/** Checks one version on batches of samples (each with the training time it was scored at). */
export async function checkContract(runner: ScheduleRunner, batches: { samples: unknown[]; time: TrainingTime }[], options: ContractOptions = {}): Promise<ContractReport> {
  const slowMs = options.slowSampleMs ?? DEFAULT_SLOW_SAMPLE_MS;
  const file = runner.source.kind === "file" ? runner.source.path : "";
  const sites = new Map(runner.info.components.map((c) => [c.name, c.at]));
  const problems = new Map<string, ContractProblem>();
  const add = (p: Omit<ContractProblem, "count" | "blocking">) => {
    const key = `${p.kind}|${p.component ?? ""}|${p.at ? `${p.at.file ?? ""}:${p.at.line}:${p.at.column}` : ""}`;
    const known = problems.get(key);
    if (known) known.count++;
    else problems.set(key, { ...p, count: 1, blocking: p.kind !== "slow" });
  };
  const latencies: number[] = [];
  let samples = 0;
  for (const batch of batches) {
    if (batch.samples.length === 0) continue;
    samples += batch.samples.length;
    const first = await runner.score(batch.samples, batch.time, { check: true });
    const second = await runner.score(batch.samples, batch.time);
    latencies.push(...(first.latencies ?? []));
    first.scores.forEach((score, i) => {
      const sample = score.id ?? `#${samples - batch.samples.length + i + 1}`;
      const failure = score.failure;
      if (failure && failure.kind !== "bad_input") {
        const kind: ContractProblemKind = failure.kind === "exception" || failure.kind === "non_finite" || failure.kind === "timeout" || failure.kind === "crashed" || failure.kind === "out_of_memory" ? failure.kind : "exception";
        const at = (kind === "exception" ? frameLocation(failure.stack, file) : undefined) ?? (failure.component ? sites.get(failure.component) : undefined);
        add({ kind, message: failure.message, sample, ...(failure.component ? { component: failure.component } : {}), ...(at ? { at } : {}) });
      }
      const again = second.scores[i];
      const differs = again ? same(score, again) : null;
      if (differs) add({ kind: "non_deterministic", message: `sample ${sample}: two runs differ: ${differs}`, sample });
      const ms = first.latencies?.[i];
      if (ms !== undefined && ms > slowMs) add({ kind: "slow", message: `sample ${sample} took ${ms.toFixed(1)} ms to score (over ${slowMs} ms)`, sample });
    });
    for (const v of first.violations ?? []) {
      const score = v.sample >= 0 ? first.scores[v.sample] : undefined;
      const at = score?.components[v.component]?.at ?? sites.get(v.component);
      add({ kind: "out_of_range", message: v.message, component: v.component, ...(score?.id ? { sample: score.id } : {}), ...(at ? { at } : {}) });
    }
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const latencyMs = sorted.length
    ? { mean: sorted.reduce((s, x) => s + x, 0) / sorted.length, p95: sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))] as number, max: sorted[sorted.length - 1] as number }
    : null;
  const list = [...problems.values()];
  return { version: runner.version, samples, ok: !list.some((p) => p.blocking), problems: list, latencyMs };
}

/** A report's problems as lines of text, most frequent first. */
export function describeProblems(report: ContractReport, limit = 10): string[] {
  return [...report.problems]
    .filter((p) => p.blocking)
    .sort((a, b) => b.count - a.count)
    .slice(0, limit)
    .map((p) => `${p.at ? `line ${p.at.line}: ` : ""}${p.message}${p.count > 1 ? ` (and ${p.count - 1} more sample${p.count > 2 ? "s" : ""})` : ""}`);
}
