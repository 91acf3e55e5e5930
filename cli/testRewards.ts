// rollout-studio test-rewards: checks reward test cases (*.reward-cases.jsonl, docs/reward-cases.md).

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { trainingTime } from "../reward/api";
import { checkCase, parseCases, type CaseResult } from "../reward/cases";
import { makePreset } from "../reward/presets";
import { readTime, toRewardSample } from "../reward/samples";
import { failedScore, scoreSample, type RewardScore } from "../reward/score";
import { presetVersion } from "../reward/version";
import { ScheduleRunner } from "../reward/host/runner";
import { checkFormat, SOURCE_FLAGS, sourceFrom, UsageError } from "./flags";

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

export async function testRewards(argv: string[]): Promise<number> {
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
