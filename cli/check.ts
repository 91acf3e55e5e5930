// rollout-studio check: runs a schedule twice on stored samples of a run and reports what would block it.

import path from "node:path";
import { parseArgs } from "node:util";
import type { TrainingTime } from "../reward/api";
import { storedSample } from "../reward/samples";
import { CompileError } from "../reward/host/compile";
import { checkContract, frameLocation } from "../reward/host/contract";
import { LoadError, ScheduleRunner } from "../reward/host/runner";
import { readRunInfo, stepFiles } from "../runs/runDir";
import { readStoredSteps } from "../runs/stored";
import { checkFormat, numberFlag, UsageError } from "./flags";

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

export async function checkCommand(argv: string[]): Promise<number> {
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
