// The rollout-studio command line: score completions with a preset or a schedule, run the reward
// host, run the demo.

import { readdirSync, readFileSync } from "node:fs";
import { url as inspectorUrl } from "node:inspector";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { trainingTime, type AnySchedule, type TrainingTime } from "./api";
import { makePreset, PRESETS } from "./presets";
import { OptionError, parseOptionArgs } from "./presets/options";
import { checkCase, parseCases, type CaseResult } from "./cases";
import { parsePyJson, type PyValue } from "./pyjson";
import { readTime, toRewardSample } from "./samples";
import { failedScore, scoreSample, type RewardScore } from "./score";
import { presetVersion } from "./version";
import { CompileError, compileSchedule } from "./host/compile";
import { loadBundleDefault, loadScheduleBundle } from "./host/load";
import { isMonitors, type MonitorSpec } from "./api";
import { evaluateMonitors } from "../runs/monitors";
import { ScheduleLocator } from "./attribution";
import { runHost } from "./host/host";
import { stringifyLine } from "./wire";
import { LoadError, ScheduleRunner, type ScheduleSource } from "./host/runner";
import { runDemo } from "./demo";
import { startEngine } from "../runs/engine";
import { ProgressPrinter } from "../runs/progress";
import { ControlError, rewardCommand, sendControl } from "../runs/control";
import { replay } from "../runs/replay";
import { readMetrics, readRollouts, readRunInfo, RunDirError, stepFiles } from "../runs/runDir";
import { parseVersionSpec, readStoredSteps, selectSteps, sourceFor } from "../runs/stored";
import { storedSample } from "./samples";
import { checkContract, frameLocation } from "./host/contract";

const USAGE = `rollout-studio — reward design for tool-calling RL

Usage:
  rollout-studio score --preset NAME [--option key=value ...] [--step N] [--progress F] [--explain] < samples.jsonl
  rollout-studio score --schedule path/to/schedule.ts [--step N] [--explain] < samples.jsonl
  rollout-studio host (--preset NAME [--option key=value ...] | --schedule FILE [--watch]) [--workers N] [--batch-timeout-ms N] [--memory-mb N]
  rollout-studio train --config run.toml [--run-dir DIR [--resume]] [--format text|json]
  rollout-studio test-rewards [FILE.reward-cases.jsonl ...] [--preset NAME [--option key=value ...] | --schedule FILE] [--format text|json]
  rollout-studio replay --run DIR [--steps all|3|2-5|last:N] [--before stored|version:HASH|schedule:FILE|preset:NAME] --after SPEC [--top N] [--samples-out FILE] [--format text|json]
  rollout-studio check --schedule FILE [--run DIR] [--samples N] [--slow-ms N] [--format text|json]
  rollout-studio push --run DIR (--schedule FILE | --version HASH)
  rollout-studio debug-sample --schedule FILE --sample SAMPLE.json   (run under a debugger: see docs/debugging.md)
  rollout-studio monitors --run DIR [--monitors FILE.monitors.ts ...] [--from-step N] [--format text|json]
  rollout-studio presets
  rollout-studio demo            GRPO on the demo dataset from the tiny base (demo/run.toml), on CPU
  rollout-studio demo-rewards    each preset's scores on the bundled example rollouts

score reads JSON Lines {"id", "completion", "ground_truth", "step"?} and writes, in input order,
{"id", "reward", "components": {name: value}, "failure"?, "parse_failure"?, "version", "logs"?}
("logs": what a schedule file printed while scoring that line; output outside any line goes to stderr).
The exit code is 1 when any line failed (bad input or a reward failure), 2 for a usage error.

test-rewards checks reward test cases (docs/reward-cases.md): every *.reward-cases.jsonl under the
current folder when no file is named. It prints a line per case and "N passed, M failed"; the exit code
is 1 when any case fails or a case line is not a case.

replay scores a run's stored rollouts with two reward versions ("stored": the scores the run recorded)
and reports what changes: samples, components, GRPO group advantages and variance, distributions.

check runs a schedule twice on stored samples of a run (the newest steps) and reports exceptions,
non-finite values, values outside declared ranges, non-determinism and slow samples; exit 1 when a
problem blocks the version (slow samples only warn). The reward host checks every hot reload the same way.

push asks the engine running a run to score with a schedule file or a version the run recorded
(rollback); the engine switches at the next step if the version passes its check. It takes schedule
files only from the run directory, the run configuration's folder, the configured schedule's folder and
the workspace holding .rollout-studio/runs (docs/run-directory.md, "Run control").

Presets: ${Object.keys(PRESETS).join(", ")} (see \`rollout-studio presets\` for their options).`;

class UsageError extends Error {}

/** The flags that choose the reward: a preset with options, or a schedule file. */
const SOURCE_FLAGS = {
  preset: { type: "string" },
  schedule: { type: "string" },
  option: { type: "string", multiple: true },
} as const;

function sourceFrom(values: { preset?: string; schedule?: string; option?: string[] }): ScheduleSource {
  if (values.preset && values.schedule) throw new UsageError("give either --preset or --schedule, not both");
  if (values.schedule) {
    if (values.option?.length) throw new UsageError("--option applies to presets; a schedule file holds its own settings");
    return { kind: "file", path: path.resolve(values.schedule) };
  }
  if (!values.preset) throw new UsageError("give --preset NAME or --schedule FILE");
  if (!PRESETS[values.preset]) throw new UsageError(`unknown preset "${values.preset}"; presets: ${Object.keys(PRESETS).join(", ")}`);
  return { kind: "preset", name: values.preset, options: parseOptionArgs(values.option ?? []) };
}

/** --format of the commands that write text for people or JSON Lines for programs. */
function checkFormat(format: string | undefined): void {
  if (format !== "text" && format !== "json") throw new UsageError(`--format is text or json, not "${format}"`);
}

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number, got ${JSON.stringify(value)}`);
  return n;
}

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

async function score(argv: string[]): Promise<number> {
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

/** The *.reward-cases.jsonl files under a folder (not in node_modules, .git or run directories). */
function findCaseFiles(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if ([".git", "node_modules", ".rollout-studio"].includes(entry.name)) continue;
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) out.push(...findCaseFiles(full));
    else if (entry.name.endsWith(".reward-cases.jsonl")) out.push(full);
  }
  return out.sort();
}

async function testRewards(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...SOURCE_FLAGS, format: { type: "string", default: "text" } }, allowPositionals: true, strict: true });
  checkFormat(values.format);
  // The flags name the reward for every file; without them each file's header does.
  const given = values.preset || values.schedule ? sourceFrom(values) : null;
  const files = positionals.length ? positionals.map((f) => path.resolve(f)) : findCaseFiles(process.cwd());
  if (files.length === 0) throw new UsageError("no *.reward-cases.jsonl files here; name the case files to check");
  const write = (line: string) => process.stdout.write(line + "\n");
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
    const { cases, problems, reward } = parseCases(file, text);
    let source = given;
    if (!source && reward) {
      source =
        "schedule" in reward
          ? { kind: "file", path: path.resolve(path.dirname(file), reward.schedule) }
          : sourceFrom({ preset: reward.preset, option: Object.entries(reward.options ?? {}).map(([k, v]) => `${k}=${String(v)}`) });
    }
    if (!source) throw new UsageError(`${file} names no reward: give --preset NAME or --schedule FILE, or start the file with {"reward": {"schedule": "file.ts"}}`);
    const preset = source.kind === "preset" ? makePreset(source.name, source.options) : null;
    const version = preset && source.kind === "preset" ? presetVersion(source.name, preset.options) : "";
    const runner = preset ? null : await ScheduleRunner.start(source);
    try {
      const results: CaseResult[] = problems.map((p) => ({ file: p.file, line: p.line, name: "", ok: false, message: `not a reward case: ${p.message}`, expected: null, actual: null }));
      for (const c of cases) {
        const time = readTime(c.sample as object, trainingTime({ step: 0, progress: 0, epoch: 0 }));
        let score: RewardScore;
        if (typeof time === "string") score = failedScore({}, version, { kind: "bad_input", message: time });
        else if (preset) {
          const sample = toRewardSample(c.sample);
          score = typeof sample === "string" ? failedScore({}, version, { kind: "bad_input", message: sample }) : scoreSample(preset, sample, time, version);
        } else score = (await (runner as ScheduleRunner).score([c.sample], time)).scores[0] as RewardScore;
        results.push(checkCase(c, score));
      }
      for (const result of results.sort((a, b) => a.line - b.line)) {
        if (result.ok) passed++;
        else failed++;
        if (values.format === "json") write(JSON.stringify(result));
        else write(`${result.ok ? "ok  " : "FAIL"} ${path.relative(process.cwd(), result.file)}:${result.line}  ${[result.name, result.ok ? "" : result.message].filter(Boolean).join(": ")}`);
      }
    } finally {
      await runner?.close();
    }
  }
  if (values.format === "text") write(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

async function replayCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      run: { type: "string" },
      steps: { type: "string" },
      before: { type: "string", default: "stored" },
      after: { type: "string" },
      top: { type: "string" },
      "samples-out": { type: "string" },
      format: { type: "string", default: "text" },
      "batch-timeout-ms": { type: "string" },
    },
    strict: true,
  });
  if (!values.run) throw new UsageError("replay needs --run DIR, the run whose rollouts to score again");
  if (!values.after) throw new UsageError("replay needs --after: the version to compare (version:HASH, schedule:FILE, preset:NAME or stored)");
  checkFormat(values.format);
  const runDir = path.resolve(values.run);
  const info = readRunInfo(runDir);
  const steps = selectSteps(values.steps, stepFiles(runDir).map((f) => f.step));
  const top = numberFlag("top", values.top);
  const timeout = numberFlag("batch-timeout-ms", values["batch-timeout-ms"]);
  const report = await replay(runDir, info, {
    steps,
    before: parseVersionSpec(values.before ?? "stored"),
    after: parseVersionSpec(values.after),
    ...(top !== undefined ? { top } : {}),
    ...(values["samples-out"] ? { samplesOut: path.resolve(values["samples-out"]) } : {}),
    ...(timeout !== undefined ? { batchTimeoutMs: timeout } : {}),
  });
  if (values.format === "json") {
    process.stdout.write(JSON.stringify(report) + "\n");
    return 0;
  }
  const f = (x: number | null) => (x === null ? "—" : x.toFixed(4));
  const out = [
    `replayed ${report.samples} samples of ${report.steps.length} step(s) in ${report.seconds.total.toFixed(2)} s`,
    `before: ${report.before.label} (${report.before.versions.join(", ")}), mean ${f(report.meanBefore)}, ${report.failuresBefore} reward failures`,
    `after:  ${report.after.label} (${report.after.versions.join(", ")}), mean ${f(report.meanAfter)}, ${report.failuresAfter} reward failures`,
    ...(report.missingRecords ? [`warning: ${report.missingRecords} record(s) listed in the step index are missing from their rollout files (cut short or emptied since); re-scored, each is a reward failure`] : []),
    `changed: ${report.changed} (${report.increased} up, ${report.decreased} down)`,
    ...report.components.map((c) => `  ${c.name}: mean ${f(c.meanBefore)} → ${f(c.meanAfter)}, changed on ${c.changed}`),
    `groups: ${report.groups.total}; zero variance ${report.groups.zeroVarianceBefore} → ${report.groups.zeroVarianceAfter} (${report.groups.gainVariance} gain variance, ${report.groups.loseVariance} lose it); advantage sign flips ${report.groups.signFlips}; mean |Δadvantage| ${report.groups.meanAbsAdvantageChange.toFixed(4)}`,
    ...report.newFailures.map((x) => `  new failure ×${x.count}: ${x.message}`),
    ...report.top.slice(0, 10).map((r) => `  step ${r.step} group ${r.group} sample ${r.sample}: ${f(r.before)} → ${f(r.after)}${r.failureAfter ? ` (${r.failureAfter})` : ""}`),
  ];
  process.stdout.write(out.join("\n") + "\n");
  return 0;
}

/** Up to `count` stored samples from the newest steps of a run, spread over them, grouped by step. */
function samplesForCheck(runDir: string, count: number): { samples: unknown[]; time: TrainingTime }[] {
  const info = readRunInfo(runDir);
  const steps = stepFiles(runDir).map((f) => f.step);
  const chosen: number[] = [];
  for (let i = steps.length - 1; i >= 0 && chosen.length < 4; i--) chosen.unshift(steps[i] as number);
  const stored = readStoredSteps(runDir, info, chosen);
  const total = stored.reduce((n, s) => n + s.records.length, 0);
  const every = Math.max(1, Math.ceil(total / count));
  const template = info.config.data?.template;
  return stored.map((s) => ({ time: s.time, samples: s.records.filter((_, i) => i % every === 0).map((r) => storedSample(r, template, `${r.step}/${r.group}/${r.sample}`)) }));
}

async function checkCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { schedule: { type: "string" }, run: { type: "string" }, samples: { type: "string" }, "slow-ms": { type: "string" }, format: { type: "string", default: "text" } },
    strict: true,
  });
  if (!values.schedule) throw new UsageError("check needs --schedule FILE");
  checkFormat(values.format);
  const file = path.resolve(values.schedule);
  const json = values.format === "json";
  const write = (x: unknown) => process.stdout.write((typeof x === "string" ? x : JSON.stringify(x)) + "\n");
  let runner: ScheduleRunner;
  try {
    runner = await ScheduleRunner.start({ kind: "file", path: file });
  } catch (err) {
    if (!(err instanceof CompileError || err instanceof LoadError)) throw err;
    const errors = err instanceof CompileError ? err.errors : [{ file, line: frameLocation((err as LoadError).details, file)?.line ?? 1, column: 1, text: err.message }];
    if (json) write({ file, ok: false, loadErrors: errors, problems: [], samples: 0, latencyMs: null });
    else for (const e of errors) write(`${path.relative(process.cwd(), e.file)}:${e.line}:${e.column}: error: ${e.text}`);
    return 1;
  }
  try {
    const batches = values.run ? samplesForCheck(path.resolve(values.run), numberFlag("samples", values.samples) ?? 64) : [];
    const slow = numberFlag("slow-ms", values["slow-ms"]);
    const report = await checkContract(runner, batches, slow !== undefined ? { slowSampleMs: slow } : {});
    if (json) write({ file, ...report, components: runner.info.components, run: values.run ? path.resolve(values.run) : null });
    else {
      for (const p of report.problems) write(`${path.relative(process.cwd(), p.at?.file ? path.resolve(path.dirname(file), p.at.file) : file)}:${p.at?.line ?? 1}:${p.at?.column ?? 1}: ${p.blocking ? "error" : "warning"}: ${p.message}${p.count > 1 ? ` (${p.count} samples)` : ""}`);
      const latency = report.latencyMs ? `; ${report.latencyMs.mean.toFixed(2)} ms per sample (p95 ${report.latencyMs.p95.toFixed(2)}, max ${report.latencyMs.max.toFixed(2)})` : "";
      write(`${report.ok ? "ok" : "FAILED"}: version ${report.version} on ${report.samples} stored sample${report.samples === 1 ? "" : "s"}${values.run ? "" : " (no --run: only loading was checked)"}${latency}`);
    }
    return report.ok ? 0 : 1;
  } finally {
    await runner.close();
  }
}

async function pushCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { run: { type: "string" }, schedule: { type: "string" }, version: { type: "string" } }, strict: true });
  if (!values.run) throw new UsageError("push needs --run DIR, the live run");
  if (!values.schedule === !values.version) throw new UsageError("push needs one of --schedule FILE or --version HASH (a version the run recorded: rollback)");
  const runDir = path.resolve(values.run);
  const info = readRunInfo(runDir);
  const source = sourceFor(runDir, info, values.version ? { kind: "version", version: values.version } : { kind: "schedule", path: path.resolve(values.schedule as string) }) as ScheduleSource;
  const answer = await sendControl(runDir, rewardCommand(source), 15 * 60_000);
  process.stdout.write(JSON.stringify(answer) + "\n");
  return answer.ok && answer.accepted !== false ? 0 : 1;
}

/** Evaluates the built-in monitors and the user's (files of defineMonitors) on every completed step from --from-step. */
async function monitorsCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { run: { type: "string" }, monitors: { type: "string", multiple: true }, "from-step": { type: "string" }, format: { type: "string", default: "text" } }, strict: true });
  if (!values.run) throw new UsageError("monitors needs --run DIR");
  checkFormat(values.format);
  const runDir = path.resolve(values.run);
  const info = readRunInfo(runDir);
  const user: { id: string; spec: MonitorSpec }[] = [];
  for (const file of values.monitors ?? []) {
    const compiled = await compileSchedule(file);
    const loaded = loadBundleDefault(compiled.code, compiled.file);
    if (!isMonitors(loaded)) throw new LoadError(`${compiled.file}: a monitors file must \`export default defineMonitors({...})\` (imported from "rollout-studio")`);
    for (const [id, spec] of Object.entries(loaded.monitors)) user.push({ id, spec });
  }
  const from = numberFlag("from-step", values["from-step"]) ?? 1;
  const metrics = readMetrics(runDir).rows;
  let unreadable = 0;
  for (const { step, file } of stepFiles(runDir)) {
    if (step < from || step > info.step) continue;
    const { rows, bad } = readRollouts(file);
    const result = evaluateMonitors(rows, metrics.filter((m) => m.step <= step), user);
    if (bad.length) {
      result.unreadable = bad;
      unreadable += bad.length;
    }
    if (values.format === "json") process.stdout.write(JSON.stringify(result) + "\n");
    else process.stdout.write(`step ${step} (${result.samples} samples): ${result.results.map((r) => `${r.title} ${r.error ? "ERROR" : r.flagged.length}`).join(" · ")}\n${result.results.filter((r) => r.error).map((r) => `  ${r.error}\n`).join("")}`);
    for (const b of bad) process.stderr.write(`rollout-studio monitors: ${b.file} line ${b.line} is not a readable rollout record (${b.error}); the monitors did not see it\n`);
  }
  // Every readable step is still evaluated; exit 1 says that some samples were not seen.
  return unreadable ? 1 : 0;
}

/**
 * Scores one sample with a schedule on this thread, not in a worker, so a debugger attached to this
 * process (VS Code's "Debug Reward on This Sample") stops at breakpoints in the schedule's TypeScript.
 * The sample file holds {completion, ground_truth, tools?, step?, progress?, epoch?}.
 */
async function debugSample(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { schedule: { type: "string" }, sample: { type: "string" } }, strict: true });
  if (!values.schedule || !values.sample) throw new UsageError("debug-sample needs --schedule FILE and --sample FILE.json");
  let raw: PyValue;
  try {
    raw = parsePyJson(readFileSync(values.sample, "utf8"));
  } catch (err) {
    throw new UsageError(`${values.sample}: ${(err as Error).message}`);
  }
  const sample = toRewardSample(raw);
  if (typeof sample === "string") throw new UsageError(`${values.sample}: ${sample}`);
  const time = readTime(raw as object, trainingTime());
  if (typeof time === "string") throw new UsageError(`${values.sample}: ${time}`);
  const compiled = await compileSchedule(values.schedule);
  process.setSourceMapsEnabled(true);
  // A file name beside the schedule that is not the schedule: the debugger maps it to the TypeScript through its source map.
  const bundleName = path.join(path.dirname(compiled.file), `${path.basename(compiled.file)}.rollout-studio-debug.cjs`);
  const schedule = loadScheduleBundle(compiled.code, bundleName);
  const locator = new ScheduleLocator(bundleName, compiled.code);
  // An attached debugger binds breakpoints in the new script once it has read its source map, which it
  // does while this process goes on: give it a moment before the schedule's code runs.
  if (inspectorUrl()) await new Promise((resolve) => setTimeout(resolve, 1500));
  const score = scoreSample(schedule, sample, time, compiled.version, (result) => locator.ruleSite(result));
  const lines = [
    `reward ${score.total === null ? "FAILED" : score.total} (version ${compiled.version}, step ${time.step}, progress ${time.progress.toFixed(3)})`,
    ...Object.entries(score.components).map(([name, c]) => `  ${name}: ${c.raw} × ${c.weight} = ${c.value}  ${c.why}${c.at ? `  (line ${c.at.line})` : ""}`),
    ...(score.failure ? [`  failure (${score.failure.kind}): ${score.failure.message}`, ...(score.failure.stack ? [score.failure.stack] : [])] : []),
  ];
  process.stdout.write(lines.join("\n") + "\n");
  return score.failure ? 1 : 0;
}

function sameTime(a: TrainingTime, b: TrainingTime): boolean {
  return a.step === b.step && a.progress === b.progress && a.epoch === b.epoch;
}

/**
 * Runs the training engine (Python) with the interpreter chosen at set-up. `--format text` prints a
 * line per step and a summary; `--format json` passes the engine's JSON Lines events through (the
 * default when stdout is not a terminal, for programs that read them).
 */
async function train(argv: string[], defaults: { config?: string; format?: "text" | "json" } = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: "string" }, "run-dir": { type: "string" }, resume: { type: "boolean", default: false }, format: { type: "string" } },
    strict: true,
  });
  const config = values.config ?? defaults.config;
  if (!config) throw new UsageError("train needs --config path/to/run.toml");
  const format = values.format ?? defaults.format ?? (process.stdout.isTTY ? "text" : "json");
  if (format !== "text" && format !== "json") throw new UsageError(`--format must be text or json, got "${format}"`);
  if (values.resume && !values["run-dir"]) throw new UsageError("--resume needs --run-dir, the run to continue");
  const printer = new ProgressPrinter((line) => process.stdout.write(line + "\n"));
  const { child, exited } = startEngine(
    { root: path.join(__dirname, ".."), config, ...(values["run-dir"] ? { runDir: values["run-dir"] } : {}), resume: values.resume ?? false },
    (event) => (format === "json" ? process.stdout.write(stringifyLine(event) + "\n") : printer.handle(event)),
    (line, stream) => (stream === "stderr" ? process.stderr : process.stdout).write(line + "\n"),
  );
  // Ctrl-C and SIGTERM reach the engine, which finishes its step, checkpoints and exits.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  return exited;
}

async function host(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SOURCE_FLAGS,
      watch: { type: "boolean", default: false },
      "batch-timeout-ms": { type: "string" },
      "memory-mb": { type: "string" },
      workers: { type: "string" },
    },
    strict: true,
  });
  const source = sourceFrom(values);
  const limits: { batchTimeoutMs?: number; memoryMb?: number } = {};
  const timeout = numberFlag("batch-timeout-ms", values["batch-timeout-ms"]);
  const memory = numberFlag("memory-mb", values["memory-mb"]);
  if (timeout !== undefined) limits.batchTimeoutMs = timeout;
  if (memory !== undefined) limits.memoryMb = memory;
  const workers = numberFlag("workers", values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) throw new UsageError(`--workers must be a whole number of at least 1, got ${values.workers}`);
  return runHost({ source, limits, watch: values.watch ?? false, ...(workers !== undefined ? { workers } : {}) });
}

function presets(): number {
  for (const [name, info] of Object.entries(PRESETS)) {
    process.stdout.write(`${name} — ${info.summary}\n`);
    for (const [key, spec] of Object.entries(info.options)) {
      const choices = spec.choices ? ` (${spec.choices.join(" | ")})` : "";
      process.stdout.write(`  --option ${key}=${String(spec.default)}${choices}\n      ${spec.doc}\n`);
    }
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  // A reader that stops early (`| head`) is not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "score":
        return await score(rest);
      case "host":
        return await host(rest);
      case "train":
        return await train(rest);
      case "test-rewards":
        return await testRewards(rest);
      case "replay":
        return await replayCommand(rest);
      case "check":
        return await checkCommand(rest);
      case "push":
        return await pushCommand(rest);
      case "debug-sample":
        return await debugSample(rest);
      case "monitors":
        return await monitorsCommand(rest);
      case "presets":
        return presets();
      case "demo":
        return await train(rest, { config: path.join(__dirname, "..", "demo", "run.toml"), format: "text" });
      case "demo-rewards":
        return await runDemo(rest);
      case "version":
        process.stdout.write(JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).version + "\n");
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE + "\n");
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof OptionError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`rollout-studio: ${(err as Error).message}\nRun \`rollout-studio help\` for usage.\n`);
      return 2;
    }
    // No engine running the run (push): one line that says which run and how to start one.
    if (err instanceof CompileError || err instanceof LoadError || err instanceof RunDirError || err instanceof ControlError) {
      process.stderr.write(`rollout-studio: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`rollout-studio: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
