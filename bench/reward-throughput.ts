// Completions scored per second for each preset: in-process on one core, and through the reward host
// (a separate process, JSON Lines, batches of 1,024), with one worker and with two.
//   npm run bench:reward     (add -- --samples N to change the workload)
import { execFileSync, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { trainingTime, type RewardSample } from "../reward/api";
import { makePreset, presetNames } from "../reward/presets";
import { scoreSample } from "../reward/score";
import { presetVersion } from "../reward/version";
import { parsePyJson, type PyValue } from "../reward/pyjson";
import { toRewardSample } from "../reward/samples";
import { stringifyLine } from "../reward/wire";

const { values } = parseArgs({ options: { samples: { type: "string", default: "51200" }, repeats: { type: "string", default: "5" }, "dump-workload": { type: "string" }, only: { type: "string" }, preset: { type: "string" } } });
const N = Number(values.samples);
const REPEATS = Number(values.repeats);
const BATCH = 1024;
// Runs from dist/bench/ (built by `npm run bench:reward`), so the CLI is one folder up.
const CLI = path.resolve(__dirname, "..", "cli.cjs");

// A workload like a run's middle: most completions well formed, a spread of the usual mistakes.
const TRUTHS = [
  [{ name: "get_time", arguments: { timezone: "Europe/Berlin" } }],
  [{ name: "add_todo", arguments: { title: "Buy milk", priority: 3 } }],
  [{ name: "play_song", arguments: { artist: "Nina Simone", shuffle: true } }, { name: "set_volume", arguments: { level: 40 } }],
  [{ name: "book_table", arguments: { restaurant: "Luigi's", people: 4, time: "19:30", notes: "window seat if possible" } }],
];
const THINK = "<think>The user asks for this; the matching tool takes these arguments, so I will call it.</think>\n";

function completionFor(preset: string, truth: { name: string; arguments: object }[], i: number): string {
  const kind = i % 10; // 0-5 right, 6 wrong value, 7 missing think, 8 bad JSON, 9 no call
  const calls = kind === 6 ? truth.map((c, j) => (j === 0 ? { ...c, arguments: { ...c.arguments, extra: 1 } } : c)) : truth;
  const head = kind === 7 ? "" : THINK;
  if (kind === 9) return THINK + "I am not sure which tool to use.";
  const body = preset === "toolrl" ? calls.map((c) => JSON.stringify({ name: c.name, parameters: c.arguments })).join("\n") : JSON.stringify(calls);
  return `${head}<tool_call>\n${kind === 8 ? body.slice(0, -3) : body}\n</tool_call>`;
}

// Each group of G = 8 completions shares one ground truth, as a GRPO batch does; ground truths are sent
// as JSON text, as the papers' reward functions receive them.
const GROUP = 8;

function truthFor(group: number): { name: string; arguments: { [k: string]: unknown } }[] {
  const base = TRUTHS[group % TRUTHS.length] as { name: string; arguments: { [k: string]: unknown } }[];
  return base.map((c, j) => (j === 0 ? { ...c, arguments: { ...c.arguments, ref: `r${group}` } } : c));
}

function workload(preset: string): { wire: object[]; samples: RewardSample[] } {
  const wire: object[] = [];
  for (let i = 0; i < N; i++) {
    const group = Math.floor(i / GROUP);
    const truth = truthFor(group);
    const groundTruth = preset === "toolrl" ? `<think>p</think>\n<tool_call>\n${truth.map((c) => JSON.stringify({ name: c.name, parameters: c.arguments })).join("\n")}\n</tool_call>` : JSON.stringify(truth);
    wire.push({ id: `s${i}`, completion: completionFor(preset, truth, i % GROUP + group), ground_truth: groundTruth });
  }
  // In-process scoring gets the same samples the host would receive.
  const samples = wire.map((w) => {
    const x = w as { id: string; completion: string; ground_truth: unknown };
    return { id: x.id, completion: x.completion, groundTruth: x.ground_truth };
  });
  return { wire, samples };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Scoring in this process, the batch read from and the scores written to JSON Lines text, as the host does. */
function inProcessJson(preset: string, wire: object[]): number {
  const schedule = makePreset(preset);
  const version = presetVersion(preset, schedule.options);
  const lines: string[] = [];
  for (let i = 0; i < wire.length; i += BATCH) lines.push(JSON.stringify({ id: i / BATCH, method: "score", params: { step: i / BATCH, samples: wire.slice(i, i + BATCH) } }));
  const rates: number[] = [];
  for (let r = 0; r < REPEATS + 2; r++) {
    const t0 = process.hrtime.bigint();
    for (const line of lines) {
      const request = parsePyJson(line) as { id: number; params: { step: number; samples: PyValue[] } };
      const time = trainingTime({ step: request.params.step });
      const scores = request.params.samples.map((w) => scoreSample(schedule, toRewardSample(w) as RewardSample, time, version));
      stringifyLine({ id: request.id, result: { version, scores } });
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r > 1) rates.push(wire.length / seconds);
  }
  return median(rates);
}

function inProcess(preset: string, samples: RewardSample[]): number {
  const schedule = makePreset(preset);
  const version = presetVersion(preset, schedule.options);
  const rates: number[] = [];
  for (let r = 0; r < REPEATS + 2; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < samples.length; i += BATCH) {
      const time = trainingTime({ step: i / BATCH });
      for (let j = i; j < Math.min(i + BATCH, samples.length); j++) scoreSample(schedule, samples[j] as RewardSample, time, version);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r > 1) rates.push(samples.length / seconds); // the first two runs warm the JIT
  }
  return median(rates);
}

/**
 * Completions per second through a host process. Requests come from a file and replies go to a file,
 * so no client competes for the cores; the host runs once with the batches repeated R times and once
 * with them repeated 2R times, and the difference is the time for R repetitions, warm, without
 * start-up.
 */
async function throughHost(preset: string, wire: object[], workers: number): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "rs-bench-"));
  const lines: string[] = [];
  for (let i = 0; i < wire.length; i += BATCH) lines.push(JSON.stringify({ id: i / BATCH, method: "score", params: { step: i / BATCH, samples: wire.slice(i, i + BATCH) } }));
  const requests = (times: number) => {
    const file = path.join(dir, `requests-${times}.jsonl`);
    writeFileSync(file, Array.from({ length: times }, () => lines.join("\n")).join("\n") + "\n");
    return file;
  };
  const run = (file: string) =>
    new Promise<number>((resolve, reject) => {
      const input = openSync(file, "r");
      const output = openSync(path.join(dir, "replies.jsonl"), "w");
      const t0 = process.hrtime.bigint();
      const child = spawn(process.execPath, [CLI, "host", "--preset", preset, "--workers", String(workers)], { stdio: [input, output, "inherit"] });
      child.on("exit", (code) => {
        closeSync(input);
        closeSync(output);
        if (code !== 0) return reject(new Error(`host exited with ${code}`));
        resolve(Number(process.hrtime.bigint() - t0) / 1e9);
      });
    });
  const short = requests(1);
  const long = requests(1 + REPEATS);
  const rates: number[] = [];
  for (let r = 0; r < 3; r++) {
    const a = await run(short);
    const b = await run(long);
    rates.push((REPEATS * wire.length) / (b - a));
  }
  const replies = readFileSync(path.join(dir, "replies.jsonl"), "utf8").split("\n").filter(Boolean);
  if (replies.length !== (1 + REPEATS) * lines.length + 1 || !replies.slice(1).every((l) => l.startsWith('{"id":'))) throw new Error(`unexpected replies from the host (${replies.length} lines)`);
  rmSync(dir, { recursive: true, force: true });
  return median(rates);
}

async function main(): Promise<void> {
  if (values["dump-workload"]) {
    // The same workloads as JSON Lines, for timing other reward implementations (bench/papers_baseline.py).
    for (const preset of ["tool-n1", "toolrl"]) {
      const file = path.join(values["dump-workload"], `${preset}.jsonl`);
      writeFileSync(file, workload(preset).wire.map((w) => JSON.stringify(w)).join("\n") + "\n");
      console.log(`wrote ${file}`);
    }
    return;
  }
  if (values.only === "in-process" && values.preset) {
    // One preset in a fresh process, as a host serves one schedule: shared code stays specialised to it.
    const { wire, samples } = workload(values.preset);
    console.log(JSON.stringify({ local: inProcess(values.preset, samples), json: inProcessJson(values.preset, wire) }));
    return;
  }
  const inFreshProcess = (preset: string) =>
    JSON.parse(execFileSync(process.execPath, [__filename, "--only", "in-process", "--preset", preset, "--samples", String(N), "--repeats", String(REPEATS)], { encoding: "utf8" })) as { local: number; json: number };
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(`Reward throughput: ${N} completions per run, median of ${REPEATS} runs after warm-up runs; batches of ${BATCH}.`);
  console.log(`Machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}.\n`);
  if (values.only === "in-process") {
    console.log("| preset | in-process, scoring only (completions/s) | in-process, JSON in and out |\n|---|---:|---:|");
    for (const preset of presetNames()) {
      const r = inFreshProcess(preset);
      console.log(`| ${preset} | ${Math.round(r.local).toLocaleString("en")} | ${Math.round(r.json).toLocaleString("en")} |`);
    }
    return;
  }
  console.log("| preset | in-process, scoring only | in-process, JSON in and out | host, 1 worker | host, 2 workers |");
  console.log("|---|---:|---:|---:|---:|");
  const fmt = (x: number) => Math.round(x).toLocaleString("en");
  for (const preset of presetNames()) {
    const { wire } = workload(preset);
    const { local, json } = inFreshProcess(preset);
    const one = await throughHost(preset, wire, 1);
    const two = await throughHost(preset, wire, 2);
    console.log(`| ${preset} | ${fmt(local)} | ${fmt(json)} | ${fmt(one)} | ${fmt(two)} |`);
  }
  console.log("\nCompletions per second. Each preset runs in a fresh process, as a reward host serves one schedule. In-process columns run on one core; the host runs as its own process (a reader thread and its workers).");
}

void main();
