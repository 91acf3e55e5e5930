// rollout-studio demo-rewards: scores the bundled demo rollouts (a pretend run, steps 1–50) with each
// paper's preset and the demo's schedule file, and prints what each reward makes of them.

import { readFileSync } from "node:fs";
import path from "node:path";
import { trainingTime } from "../reward/api";
import { makePreset, presetNames } from "../reward/presets";
import { parsePyJson, pyDumps, type PyValue } from "../reward/pyjson";
import { isParseFailure, parseCompletion } from "../reward/parse";
import { toRewardSample } from "../reward/samples";
import { scoreSample, type RewardScore } from "../reward/score";
import { presetVersion } from "../reward/version";
import { ScheduleRunner } from "../reward/host/runner";

interface DemoRow {
  id: string;
  step: number;
  kind: string;
}

function demoFile(): string {
  for (const candidate of [path.join(__dirname, "..", "demo", "rollouts.jsonl"), path.join(__dirname, "..", "..", "demo", "rollouts.jsonl")]) {
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // try the next place
    }
  }
  throw new Error("demo/rollouts.jsonl is missing; run `node --import tsx scripts/make-demo-rollouts.ts`");
}

/**
 * The demo rollouts are written in Tool-N1's format (a JSON list per <tool_call>). ToolRL's reward only
 * reads its own format, so for it a list becomes JSON Lines of {name, parameters}, and an empty list a
 * <response>, as a model trained with ToolRL's template would write them.
 */
function inToolRLFormat(completion: string): string {
  const match = /<tool_call>\n?([\s\S]*?)\n?<\/tool_call>/.exec(completion);
  if (!match) return completion;
  const parsed = parseCompletion(completion, { style: "json-list" });
  if (parsed.calls === null || isParseFailure(parsed.calls)) return completion;
  const replacement = parsed.calls.length === 0
    ? "<response>No tool fits this request.</response>"
    : `<tool_call>\n${parsed.calls.map((c) => pyDumps({ name: c.name, parameters: c.arguments } as PyValue)).join("\n")}\n</tool_call>`;
  return completion.replace(match[0], replacement);
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3).padStart(7) : "    n/a");
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export async function demoRewards(_argv: string[]): Promise<number> {
  const file = demoFile();
  const rows = readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => parsePyJson(l) as unknown as DemoRow & { [k: string]: unknown });
  const steps = Math.max(...rows.map((r) => r.step));
  process.stdout.write(`Rollout Studio demo: ${rows.length} rollouts from ${path.relative(process.cwd(), file)} (steps 1–${steps}), scored with each preset.\n`);
  const kinds = [...new Set(rows.map((r) => r.kind))];

  for (const name of presetNames()) {
    const schedule = makePreset(name);
    const version = presetVersion(name, schedule.options);
    const scores: { row: DemoRow; score: RewardScore }[] = [];
    const started = process.hrtime.bigint();
    for (const row of rows) {
      const sample = toRewardSample(row as never);
      if (typeof sample !== "string" && name === "toolrl") sample.completion = inToolRLFormat(sample.completion);
      if (typeof sample === "string") throw new Error(`${file}: ${row.id}: ${sample}`);
      scores.push({ row, score: scoreSample(schedule, sample, trainingTime({ step: row.step, progress: row.step / steps, epoch: row.step / steps }), version) });
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const ok = scores.filter((s) => s.score.total !== null);
    const totals = ok.map((s) => s.score.total as number);
    process.stdout.write(`\n== ${name} (version ${version}) — ${schedule.description ?? ""}${name === "toolrl" ? " (completions in ToolRL's JSON Lines format)" : ""}\n`);
    process.stdout.write(`   mean reward ${fmt(mean(totals))}   min ${fmt(Math.min(...totals))}   max ${fmt(Math.max(...totals))}   reward failures ${scores.length - ok.length}   (${ms.toFixed(1)} ms)\n`);
    const componentNames = Object.keys(ok[0]?.score.components ?? {});
    process.stdout.write(`   components (mean weighted value): ${componentNames.map((c) => `${c} ${mean(ok.map((s) => s.score.components[c]?.value ?? 0)).toFixed(3)}`).join(", ")}\n`);
    const reasons = new Map<string, number>();
    for (const s of scores) if (s.score.parseFailure) reasons.set(s.score.parseFailure.reason, (reasons.get(s.score.parseFailure.reason) ?? 0) + 1);
    process.stdout.write(`   parse failures: ${reasons.size ? [...reasons].map(([r, n]) => `${r} ${n}`).join(", ") : "none"}\n`);
    const quarters = [0, 1, 2, 3].map((q) => ok.filter((s) => Math.ceil((s.row.step / steps) * 4) - 1 === q).map((s) => s.score.total as number));
    process.stdout.write(`   mean reward by quarter of the run: ${quarters.map((q, i) => `Q${i + 1} ${mean(q).toFixed(3)}`).join("  ")}\n`);
    process.stdout.write(`   mean reward by kind of rollout:\n`);
    for (const kind of kinds) {
      const ofKind = ok.filter((s) => s.row.kind === kind);
      if (!ofKind.length) continue;
      const example = ofKind[0]?.score;
      const why = example ? Object.entries(example.components).map(([c, v]) => `${c}: ${v.why}`).join("; ") : "";
      process.stdout.write(`     ${kind.padEnd(14)} n=${String(ofKind.length).padStart(3)} ${fmt(mean(ofKind.map((s) => s.score.total as number)))}   e.g. ${why.length > 110 ? why.slice(0, 109) + "…" : why}\n`);
    }
  }
  // The demo's own schedule file, compiled and run in a worker as the reward host runs user schedules.
  const scheduleFile = path.join(path.dirname(file), "reward-schedule.ts");
  const runner = await ScheduleRunner.start({ kind: "file", path: scheduleFile });
  try {
    const started = process.hrtime.bigint();
    const quarters: number[][] = [[], [], [], []];
    const totals: number[] = [];
    for (let step = 1; step <= steps; step++) {
      const batch = rows.filter((r) => r.step === step);
      const { scores } = await runner.score(batch, trainingTime({ step, progress: step / steps, epoch: step / steps }));
      for (const s of scores) {
        if (s.total === null) continue;
        totals.push(s.total);
        (quarters[Math.ceil((step / steps) * 4) - 1] as number[]).push(s.total);
      }
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(`\n== ${path.relative(process.cwd(), scheduleFile)}: "${runner.info.name}" (version ${runner.version}), your schedule to edit\n`);
    process.stdout.write(`   components: ${runner.info.components.map((c) => c.name).join(", ")}   mean reward ${fmt(mean(totals))}   (${ms.toFixed(1)} ms, ${steps} batches through a worker)\n`);
    process.stdout.write(`   mean reward by quarter of the run: ${quarters.map((q, i) => `Q${i + 1} ${mean(q).toFixed(3)}`).join("  ")}\n`);
  } finally {
    await runner.close();
  }
  process.stdout.write(`\nTry: npx rollout-studio score --schedule ${path.relative(process.cwd(), scheduleFile)} --explain < ${path.relative(process.cwd(), file)} | head -3\n`);
  return 0;
}
