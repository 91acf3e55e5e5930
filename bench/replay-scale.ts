// Replay at scale: a run directory of 100,000 stored samples (100 steps of 1,000, made from the records
// of test/fixtures/run-small), scored again by `rollout-studio replay` as the extension runs it (a CLI
// process; wall time includes starting Node, reading every record, compiling the schedule, scoring and
// comparing). Two cases: the stored scores against one version (one scoring pass), and two versions
// against each other (two passes).
//
//   npm run bench:replay [-- --samples 100000] [--dir /tmp/rs-bench-replay] [--keep]
// The target (issue 6): replaying 100,000 stored samples takes under 5 s.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import type { ReplayReport } from "../runs/replay";
import type { RunInfo, TrajectoryRecord } from "../runs/records";
import { readRollouts, stepFiles } from "../runs/runDir";

const ROOT = path.resolve(import.meta.dirname ?? __dirname, "..");
const FIXTURE = path.join(ROOT, "test", "fixtures", "run-small");
const CLI = path.join(ROOT, "dist", "cli.cjs");

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

function generate(dir: string, steps: number, perStep: number): string {
  const templates: TrajectoryRecord[] = stepFiles(FIXTURE).flatMap((f) => readRollouts(f.file).rows);
  const info = JSON.parse(fs.readFileSync(path.join(FIXTURE, "run.json"), "utf8")) as RunInfo;
  info.config.grpo = { ...(info.config.grpo ?? {}), max_steps: steps };
  fs.mkdirSync(path.join(dir, "rollouts"), { recursive: true });
  fs.mkdirSync(path.join(dir, "index"), { recursive: true });
  fs.cpSync(path.join(FIXTURE, "rewards"), path.join(dir, "rewards"), { recursive: true });
  fs.writeFileSync(path.join(dir, "run.json"), JSON.stringify(info));
  const metrics: string[] = [];
  for (let step = 1; step <= steps; step++) {
    const lines: string[] = [];
    const index: string[] = [];
    for (let k = 0; k < perStep; k++) {
      const t = templates[(step * 7 + k) % templates.length] as TrajectoryRecord;
      const record = { ...t, step, group: Math.floor(k / 4), sample: k % 4 };
      lines.push(JSON.stringify(record));
      // The compact index the engine writes beside each step (only the fields replay reads).
      const components = Object.fromEntries(Object.entries(record.components).map(([name, c]) => [name, c.value]));
      index.push(JSON.stringify({ step, group: record.group, sample: record.sample, reward: record.reward, components, failure: record.failure?.message ?? null, reward_version: record.reward_version }));
    }
    const name = `step-${String(step).padStart(6, "0")}.jsonl`;
    fs.writeFileSync(path.join(dir, "rollouts", name), lines.join("\n") + "\n");
    fs.writeFileSync(path.join(dir, "index", name), index.join("\n") + "\n");
    metrics.push(JSON.stringify({ step, time: { step, progress: (step - 1) / steps, epoch: 0 } }));
  }
  fs.writeFileSync(path.join(dir, "metrics.jsonl"), metrics.join("\n") + "\n");
  return info.reward_versions[0] as string;
}

function timeReplay(args: string[]): { wall: number; report: ReplayReport } {
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, "replay", "--format", "json", ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
  const wall = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`replay failed: ${r.stderr}`);
  return { wall, report: JSON.parse(r.stdout) as ReplayReport };
}

const samples = Number(arg("samples", "100000"));
const perStep = 1000;
const steps = Math.max(1, Math.round(samples / perStep));
const dir = arg("dir", path.join(os.tmpdir(), "rs-bench-replay"));
fs.rmSync(dir, { recursive: true, force: true });
const version = generate(dir, steps, perStep);
const bytes = stepFiles(dir).reduce((n, f) => n + fs.statSync(f.file).size, 0);
const edited = path.join(dir, "edited.ts");
fs.writeFileSync(edited, fs.readFileSync(path.join(ROOT, "demo", "reward-schedule.ts"), "utf8").replace("value: 0.5, why: \"tags in order, but no calls that parse\"", 'value: 0.25, why: "tags only"'));

console.log(`replay bench: ${steps * perStep} stored samples (${steps} steps × ${perStep}, ${(bytes / 2 ** 20).toFixed(0)} MiB of records), Node ${process.version}, ${os.cpus().length} cores`);
for (const [label, args] of [
  ["stored scores vs one version (1 scoring pass)", ["--run", dir, "--after", `schedule:${edited}`]],
  ["two versions (2 scoring passes)", ["--run", dir, "--before", `version:${version}`, "--after", `schedule:${edited}`]],
] as const) {
  const { wall, report } = timeReplay([...args]);
  console.log(
    `${label}: ${wall.toFixed(2)} s wall (read ${report.seconds.read.toFixed(2)} s, score ${report.seconds.score.toFixed(2)} s, replay total ${report.seconds.total.toFixed(2)} s); ` +
      `${report.samples} samples, ${report.changed} changed; target < 5 s: ${wall < 5 ? "met" : "NOT met"}`,
  );
}
if (!process.argv.includes("--keep")) fs.rmSync(dir, { recursive: true, force: true });
