// "Add as Reward Test Case": a stored sample becomes a reward case (docs/reward-cases.md) that pins the
// reward it got, in a case file whose header names the run's reward. No VS Code dependency.

import fs from "node:fs";
import path from "node:path";

import type { RunInfo, TrajectoryRecord } from "./records";

/** The case for a record: its sample, and its stored total and components as the expectation. */
export function caseFromRecord(record: TrajectoryRecord): Record<string, unknown> {
  const components: Record<string, number> = {};
  for (const [name, c] of Object.entries(record.components ?? {})) components[name] = c.value;
  return {
    name: `step ${record.step} group ${record.group} sample ${record.sample} (${record.prompt_id})`,
    completion: record.completion,
    ground_truth: record.ground_truth,
    step: record.step,
    expect: record.failure ? { failure: record.failure.kind } : { total: record.reward, components },
  };
}

/** The header naming the run's reward, with a schedule path relative to the case file. */
export function headerFor(info: RunInfo, caseFile: string): Record<string, unknown> | null {
  const reward = info.config?.reward as { preset?: string | null; schedule?: string | null; options?: Record<string, unknown> } | undefined;
  if (reward?.schedule) return { reward: { schedule: path.relative(path.dirname(caseFile), reward.schedule).replace(/\\/g, "/") } };
  if (reward?.preset) return { reward: { preset: reward.preset, ...(reward.options && Object.keys(reward.options).length ? { options: reward.options } : {}) } };
  return null;
}

/** Appends the record's case to the file (created with the run's header); returns the case's 1-based line. */
export function appendCase(caseFile: string, record: TrajectoryRecord, info: RunInfo): number {
  fs.mkdirSync(path.dirname(caseFile), { recursive: true });
  let text = fs.existsSync(caseFile) ? fs.readFileSync(caseFile, "utf8") : "";
  if (!text) {
    const header = headerFor(info, caseFile);
    if (header) text = JSON.stringify(header) + "\n";
  } else if (!text.endsWith("\n")) text += "\n";
  text += JSON.stringify(caseFromRecord(record)) + "\n";
  fs.writeFileSync(caseFile, text);
  return text.trimEnd().split("\n").length;
}
