// rollout-studio monitors: the built-in monitors and the user's on a run's completed steps.

import path from "node:path";
import { parseArgs } from "node:util";
import { isMonitors, type MonitorSpec } from "../reward/api";
import { compileSchedule } from "../reward/host/compile";
import { loadBundleDefault } from "../reward/host/load";
import { LoadError } from "../reward/host/runner";
import { evaluateMonitors } from "../runs/monitors";
import { readMetrics, readRollouts, readRunInfo, stepFiles } from "../runs/runDir";
import { checkFormat, numberFlag, UsageError } from "./flags";

/** Evaluates the built-in monitors and the user's (files of defineMonitors) on every completed step from --from-step. */
export async function monitorsCommand(argv: string[]): Promise<number> {
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
