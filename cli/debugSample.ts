// rollout-studio debug-sample: scores one sample with a schedule on this thread, for a debugger.

import { readFileSync } from "node:fs";
import { url as inspectorUrl } from "node:inspector";
import path from "node:path";
import { parseArgs } from "node:util";
import { trainingTime } from "../reward/api";
import { ScheduleLocator } from "../reward/attribution";
import { parsePyJson, type PyValue } from "../reward/pyjson";
import { readTime, toRewardSample } from "../reward/samples";
import { scoreSample } from "../reward/score";
import { compileSchedule } from "../reward/host/compile";
import { loadScheduleBundle } from "../reward/host/load";
import { UsageError } from "./flags";

/**
 * Scores one sample with a schedule on this thread, not in a worker, so a debugger attached to this
 * process (VS Code's "Debug Reward on This Sample") stops at breakpoints in the schedule's TypeScript.
 * The sample file holds {completion, ground_truth, tools?, step?, progress?, epoch?}.
 */
export async function debugSample(argv: string[]): Promise<number> {
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
