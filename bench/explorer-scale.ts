// The rollout explorer on a long run: generates a run directory of 1,000,000 samples (1,000 steps of
// 1,000, made from the records of test/fixtures/run-small with varied rewards, components, parse
// failures and versions), then times what the explorer's host does with it (runs/samples.ts, the code
// the extension runs): the first rows, the whole load, filters and sorts over every sample, one live
// step added to a loaded run, and the memory it holds.
//
//   npm run bench:explorer [-- --samples 1000000] [--dir /tmp/rs-bench-run] [--keep]   (npm run bench runs it too)
// The targets (issue 5): first rows < 1.5 s; a filter or sort < 300 ms; extension-host memory < 400 MB.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import type { TrajectoryRecord } from "../runs/records";
import { readRollouts, stepFiles } from "../runs/runDir";
import { SampleStore } from "../runs/samples";

const FIXTURE = path.resolve(import.meta.dirname ?? __dirname, "..", "test", "fixtures", "run-small");

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

/** Writes `steps` rollout files of `perStep` records and their index, as the engine does. */
function generate(dir: string, steps: number, perStep: number): void {
  const templates: TrajectoryRecord[] = stepFiles(FIXTURE).flatMap((f) => readRollouts(f.file).rows);
  const reasons = ["bad_json", "no_tag", "unclosed_tag", "missing_name"];
  fs.mkdirSync(path.join(dir, "rollouts"), { recursive: true });
  fs.mkdirSync(path.join(dir, "index"), { recursive: true });
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let step = 1; step <= steps; step++) {
    const lines: Buffer[] = [];
    const index: string[] = [];
    let offset = 0;
    const version = step <= steps / 2 ? "3c4b1ff94edd" : "8a5c1c17cdec";
    for (let k = 0; k < perStep; k++) {
      const t = templates[(step * 7 + k) % templates.length] as TrajectoryRecord;
      const reward = random() * 2 - 0.5;
      const failed = random() < 0.3 ? (reasons[Math.floor(random() * reasons.length)] as string) : null;
      const record = {
        ...t,
        run: "bench",
        step,
        group: Math.floor(k / 8),
        sample: k % 8,
        prompt_id: `train-${(step * 125 + Math.floor(k / 8)) % 3000}`,
        reward,
        advantage: random() * 2 - 1,
        reward_version: version,
        parse_failure: failed ? { reason: failed, message: "generated" } : null,
        components: { format: { raw: random(), weight: 1, value: random(), why: "generated" }, strict: { raw: 0, weight: 0.1, value: 0, why: "generated" }, credit: { raw: random(), weight: 0.9, value: random() - 0.5, why: "generated" } },
      };
      const line = Buffer.from(JSON.stringify(record) + "\n");
      lines.push(line);
      const user = record.prompt.messages.find((m) => m.role === "user")?.content ?? "";
      index.push(
        JSON.stringify({
          offset, length: line.length - 1, step, group: record.group, sample: record.sample, prompt_id: record.prompt_id, request: user.slice(0, 200), reward,
          advantage: record.advantage, components: Object.fromEntries(Object.entries(record.components).map(([n, c]) => [n, c.value])),
          parse_failure: failed, reward_version: version, exact: false, failure: null, completion_tokens: record.completion_tokens,
        }),
      );
      offset += line.length;
    }
    const name = `step-${String(step).padStart(6, "0")}.jsonl`;
    fs.writeFileSync(path.join(dir, "rollouts", name), Buffer.concat(lines));
    fs.writeFileSync(path.join(dir, "index", name), index.join("\n") + "\n");
  }
  fs.writeFileSync(path.join(dir, "run.json"), JSON.stringify({ id: "bench", status: "finished", step: steps, reward_versions: ["3c4b1ff94edd", "8a5c1c17cdec"], config: {} }));
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const samples = Number(arg("samples", "1000000"));
const perStep = 1000;
const steps = Math.max(1, Math.round(samples / perStep));
const dir = arg("dir", path.join(os.tmpdir(), `rs-bench-run-${steps * perStep}`));
if (!fs.existsSync(path.join(dir, "run.json"))) {
  const t = process.hrtime.bigint();
  generate(dir, steps, perStep);
  console.log(`generated ${steps * perStep} samples in ${dir} (${(ms(t) / 1000).toFixed(1)} s)`);
}
const files = stepFiles(dir).map((f) => ({ rollouts: f.file, index: path.join(dir, "index", path.basename(f.file)) }));
const bytes = files.reduce((n, f) => n + fs.statSync(f.rollouts).size, 0);
const indexBytes = files.reduce((n, f) => n + fs.statSync(f.index).size, 0);

// What the explorer does when it opens: the first slice of files, the view, the first page of rows.
const open = process.hrtime.bigint();
const store = new SampleStore();
for (const f of files.slice(0, 8)) store.addIndexFile(f.index, f.rollouts);
const firstView = store.query({});
const firstPage = Array.from({ length: Math.min(200, firstView.length) }, (_, k) => store.row(firstView[k] as number));
JSON.stringify(firstPage); // as posted to the webview
const firstRows = ms(open);
for (const f of files.slice(8)) store.addIndexFile(f.index, f.rollouts);
const loaded = ms(open);

const queries: [string, Parameters<SampleStore["query"]>[0]][] = [
  ["filter: parse failures (any reason)", { parse_failure: "any" }],
  ["filter: one step", { step: Math.ceil(steps / 2) }],
  ["filter: reward version + exact", { reward_version: "8a5c1c17cdec", exact: false }],
  ["search: request text", { text: "alarm" }],
  ["sort: reward, all samples", { sort: "reward" }],
  ["sort: a component, all samples", { sort: "component:credit", descending: false }],
  ["filter + sort: parse failures by reward", { parse_failure: "bad_json", sort: "reward" }],
];
const results: Record<string, number> = {};
for (const [name, q] of queries) {
  const times: number[] = [];
  let count = 0;
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    count = store.query(q).length;
    times.push(ms(t));
  }
  results[`${name} (${count.toLocaleString()} rows)`] = median(times);
}
const detailTimes: number[] = [];
for (let r = 0; r < 20; r++) {
  const t = process.hrtime.bigint();
  store.detail(Math.floor((r / 20) * store.size));
  detailTimes.push(ms(t));
}

// A live run: one more step of 1,000 samples arrives and the current view is computed again.
const liveDir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-bench-live-"));
generate(liveDir, 1, perStep);
const live = process.hrtime.bigint();
store.addIndexFile(path.join(liveDir, "index", "step-000001.jsonl"), path.join(liveDir, "rollouts", "step-000001.jsonl"));
store.query({ sort: "reward" });
const liveStep = ms(live);
fs.rmSync(liveDir, { recursive: true, force: true });

(globalThis as { gc?: () => void }).gc?.();
const memory = process.memoryUsage();
console.log(`\nExplorer on ${store.size.toLocaleString()} samples (${(bytes / 2 ** 30).toFixed(2)} GiB of rollouts, ${(indexBytes / 2 ** 20).toFixed(0)} MiB of index), Node ${process.version}`);
console.log(`  first rows (first 8 steps indexed, view, first page)   ${firstRows.toFixed(0)} ms   target < 1500 ms`);
console.log(`  whole run indexed                                      ${(loaded / 1000).toFixed(1)} s`);
for (const [name, t] of Object.entries(results)) console.log(`  ${name.padEnd(55)}${t.toFixed(0)} ms   target < 300 ms`);
console.log(`  a sample's detail (read from disk), median of 20      ${median(detailTimes).toFixed(1)} ms`);
console.log(`  one live step added + view again                      ${liveStep.toFixed(0)} ms`);
console.log(`  memory after load: heap ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB, array buffers ${(memory.arrayBuffers / 2 ** 20).toFixed(0)} MiB, RSS ${(memory.rss / 2 ** 20).toFixed(0)} MiB   target < 400 MB`);
if (!process.argv.includes("--keep") && !process.argv.includes("--dir")) fs.rmSync(dir, { recursive: true, force: true });
