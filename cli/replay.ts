// rollout-studio replay: scores a run's stored rollouts with two reward versions and reports what changes.

import path from "node:path";
import { parseArgs } from "node:util";
import { replay } from "../runs/replay";
import { readRunInfo, stepFiles } from "../runs/runDir";
import { parseVersionSpec, selectSteps } from "../runs/stored";
import { checkFormat, numberFlag, UsageError } from "./flags";

export async function replayCommand(argv: string[]): Promise<number> {
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
