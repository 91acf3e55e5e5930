// rollout-studio score: scores JSON Lines samples from stdin with a preset or a schedule file.

import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { trainingTime, type AnySchedule, type TrainingTime } from "../reward/api";
import { makePreset } from "../reward/presets";
import { parsePyJson, type PyValue } from "../reward/pyjson";
import { readTime, toRewardSample } from "../reward/samples";
import { failedScore, scoreSample, type RewardScore } from "../reward/score";
import { presetVersion } from "../reward/version";
import { stringifyLine } from "../reward/wire";
import { ScheduleRunner } from "../reward/host/runner";
import { numberFlag, SOURCE_FLAGS, sourceFrom } from "./flags";

/** One output record for the score command. */
export function outputRecord(score: RewardScore, explain: boolean): object {
  const components: { [name: string]: number } = {};
  for (const [name, c] of Object.entries(score.components)) components[name] = c.value;
  const out: { [key: string]: unknown } = { id: score.id ?? null, reward: score.total, components };
  if (score.failure) out.failure = { kind: score.failure.kind, message: score.failure.message, ...(score.failure.component ? { component: score.failure.component } : {}), ...(score.failure.field ? { field: score.failure.field } : {}) };
  if (score.parseFailure) out.parse_failure = score.parseFailure.reason;
  out.version = score.version;
  if (score.logs) out.logs = score.logs;
  if (explain) {
    out.why = Object.fromEntries(Object.entries(score.components).map(([n, c]) => [n, c.why]));
    if (score.why) out.why_total = score.why;
    if (score.parseFailure) out.parse_failure_detail = score.parseFailure;
    out.calls = score.calls;
  }
  return out;
}

export async function score(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SOURCE_FLAGS,
      step: { type: "string" },
      progress: { type: "string" },
      epoch: { type: "string" },
      explain: { type: "boolean", default: false },
      "batch-timeout-ms": { type: "string" },
    },
    strict: true,
  });
  const source = sourceFrom(values);
  const base = trainingTime({ step: numberFlag("step", values.step) ?? 0, progress: numberFlag("progress", values.progress) ?? 0, epoch: numberFlag("epoch", values.epoch) ?? 0 });

  // Presets run in this process; a schedule file runs in a worker with the host's limits.
  let preset: { schedule: AnySchedule; version: string } | null = null;
  let runner: ScheduleRunner | null = null;
  if (source.kind === "preset") {
    const schedule = makePreset(source.name, source.options);
    preset = { schedule, version: presetVersion(source.name, schedule.options) };
  } else {
    const timeout = numberFlag("batch-timeout-ms", values["batch-timeout-ms"]);
    runner = await ScheduleRunner.start(source, timeout !== undefined ? { batchTimeoutMs: timeout } : {});
  }
  const version = preset?.version ?? (runner as ScheduleRunner).version;

  let failures = 0;
  let lineNumber = 0;
  const pending: { line: number; sample?: PyValue; time: TrainingTime; error?: string; id?: string }[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const good = pending.filter((p) => p.error === undefined);
    // Group consecutive samples with the same time so a schedule sees one step per batch.
    const results = new Map<number, RewardScore>();
    for (let i = 0; i < good.length; ) {
      let j = i;
      while (j < good.length && sameTime((good[j] as (typeof good)[number]).time, (good[i] as (typeof good)[number]).time)) j++;
      const group = good.slice(i, j);
      const time = (group[0] as (typeof group)[number]).time;
      const scores = preset
        ? group.map((p) => {
            const sample = toRewardSample(p.sample as PyValue);
            return typeof sample === "string" ? failedScore({}, version, { kind: "bad_input", message: sample }) : scoreSample(preset.schedule, sample, time, version);
          })
        : (await (runner as ScheduleRunner).score(group.map((p) => p.sample), time)).scores;
      group.forEach((p, k) => results.set(p.line, scores[k] as RewardScore));
      i = j;
    }
    for (const p of pending) {
      let result = p.error === undefined ? (results.get(p.line) as RewardScore) : failedScore(p.id !== undefined ? { id: p.id } : {}, version, { kind: "bad_input", message: p.error });
      if (result.failure?.kind === "bad_input" && p.error === undefined) result = { ...result, failure: { ...result.failure, message: `line ${p.line}: ${result.failure.message.replace(/^sample \d+: /, "")}` } };
      if (result.failure) {
        failures++;
        process.stderr.write(`rollout-studio score: ${result.failure.kind === "bad_input" ? "" : `line ${p.line}: `}${result.failure.message}\n`);
      }
      process.stdout.write(stringifyLine(outputRecord(result, values.explain ?? false)) + "\n");
    }
    pending.length = 0;
  };

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    let value: PyValue;
    try {
      value = parsePyJson(line);
    } catch (err) {
      pending.push({ line: lineNumber, time: base, error: `line ${lineNumber}: not valid JSON: ${(err as Error).message}` });
      continue;
    }
    const sample = toRewardSample(value);
    if (typeof sample === "string") {
      const id = (value as { id?: unknown } | null)?.id;
      pending.push({ line: lineNumber, time: base, error: `line ${lineNumber}: ${sample}`, ...(typeof id === "string" || typeof id === "number" ? { id: String(id) } : {}) });
      continue;
    }
    const time = readTime(value as object, base);
    if (typeof time === "string") {
      pending.push({ line: lineNumber, time: base, error: `line ${lineNumber}: ${time}`, ...(sample.id !== undefined ? { id: sample.id } : {}) });
      continue;
    }
    pending.push({ line: lineNumber, sample: value, time });
    if (pending.length >= 1024) await flush();
  }
  await flush();
  await runner?.close();
  return failures > 0 ? 1 : 0;
}

function sameTime(a: TrainingTime, b: TrainingTime): boolean {
  return a.step === b.step && a.progress === b.progress && a.epoch === b.epoch;
}
