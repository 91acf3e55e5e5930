// Writes demo/rollouts.jsonl: rollouts of a pretend training run, from early (mostly malformed) to late
// (mostly right), covering the ways tool calls go wrong. Deterministic: run it again for the same file.
//   node --import tsx scripts/make-demo-rollouts.ts

import { writeFileSync } from "node:fs";
import path from "node:path";

type Args = { [k: string]: string | number | boolean };
interface Call {
  name: string;
  arguments: Args;
}

const TASKS: { query: string; truth: Call[] }[] = [
  { query: "What time is it in Berlin?", truth: [{ name: "get_time", arguments: { timezone: "Europe/Berlin" } }] },
  { query: "Add 'buy milk' to my todo list with priority 3", truth: [{ name: "add_todo", arguments: { title: "buy milk", priority: 3 } }] },
  { query: "Play Nina Simone on shuffle and set the volume to 40", truth: [{ name: "play_song", arguments: { artist: "Nina Simone", shuffle: true } }, { name: "set_volume", arguments: { level: 40 } }] },
  { query: "Convert 250 USD to JPY", truth: [{ name: "convert_currency", arguments: { amount: 250, from: "USD", to: "JPY" } }] },
  { query: "Weather in Oslo for the next 3 days", truth: [{ name: "get_weather", arguments: { city: "Oslo", days: 3 } }] },
  { query: "Book a table for 4 at Luigi's at 19:30", truth: [{ name: "book_table", arguments: { restaurant: "Luigi's", people: 4, time: "19:30" } }] },
  { query: "Tell me a joke", truth: [] },
];

// Deterministic generator (mulberry32).
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const json = (calls: Call[]) => JSON.stringify(calls);

const KINDS: { kind: string; make: (truth: Call[], r: () => number) => string }[] = [
  { kind: "exact", make: (t) => `<think>I should call the right tool.</think>\n<tool_call>\n${json(t)}\n</tool_call>` },
  { kind: "reordered", make: (t) => `<think>Both calls are needed.</think>\n<tool_call>\n${json([...t].reverse())}\n</tool_call>` },
  {
    kind: "wrong_value",
    make: (t) => {
      const c = structuredClone(t);
      const first = c[0];
      if (first) {
        const k = Object.keys(first.arguments)[0] as string;
        const v = first.arguments[k];
        first.arguments[k] = typeof v === "number" ? v + 1 : typeof v === "string" ? v.toUpperCase() + "x" : !v;
      }
      return `<think>I think this is it.</think>\n<tool_call>\n${json(c)}\n</tool_call>`;
    },
  },
  {
    kind: "wrong_type",
    make: (t) => {
      const c = structuredClone(t);
      const first = c[0];
      if (first) {
        const k = Object.keys(first.arguments).find((key) => typeof first.arguments[key] === "number");
        if (k) first.arguments[k] = String(first.arguments[k]);
      }
      return `<think>Calling now.</think>\n<tool_call>\n${json(c)}\n</tool_call>`;
    },
  },
  {
    kind: "missing_arg",
    make: (t) => {
      const c = structuredClone(t);
      const first = c[0];
      if (first) delete first.arguments[Object.keys(first.arguments).pop() as string];
      return `<think>Short call.</think>\n<tool_call>\n${json(c)}\n</tool_call>`;
    },
  },
  { kind: "no_think", make: (t) => `<tool_call>\n${json(t)}\n</tool_call>` },
  { kind: "bad_json", make: (t) => `<think>Here goes.</think>\n<tool_call>\n${json(t).slice(0, -2)}\n</tool_call>` },
  { kind: "no_tag", make: (t) => `<think>Let me answer.</think>\n${t[0]?.name ?? "nothing"} with ${JSON.stringify(t[0]?.arguments ?? {})}` },
  { kind: "python_syntax", make: (t) => `<think>Call it.</think>\n<tool_call>\n[${t.map((c) => `${c.name}(${Object.entries(c.arguments).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")})`).join(", ")}]\n</tool_call>` },
  { kind: "rambling", make: () => "The user wants something. I will think about tools and JSON and maybe call one later." },
];

function chooseKind(progress: number, r: () => number): (typeof KINDS)[number] {
  // Early: mostly broken output; late: mostly right.
  const good = 0.1 + 0.75 * progress;
  if (r() < good) return r() < 0.85 ? (KINDS[0] as (typeof KINDS)[number]) : (KINDS[1] as (typeof KINDS)[number]);
  return KINDS[2 + Math.floor(r() * (KINDS.length - 2))] as (typeof KINDS)[number];
}

const r = rng(20261122);
const steps = 50;
const perStep = 8;
const lines: string[] = [];
for (let step = 1; step <= steps; step++) {
  for (let i = 0; i < perStep; i++) {
    const task = TASKS[Math.floor(r() * TASKS.length)] as (typeof TASKS)[number];
    const kind = task.truth.length === 0 ? (r() < 0.2 + 0.6 * (step / steps) ? "abstain" : "spurious") : chooseKind(step / steps, r).kind;
    let completion: string;
    if (kind === "abstain") completion = "<think>No tool fits this request.</think>\n<tool_call>\n[]\n</tool_call>";
    else if (kind === "spurious") completion = `<think>Maybe the weather?</think>\n<tool_call>\n${json([{ name: "get_weather", arguments: { city: "Oslo", days: 1 } }])}\n</tool_call>`;
    else completion = (KINDS.find((k) => k.kind === kind) as (typeof KINDS)[number]).make(task.truth, r);
    lines.push(JSON.stringify({ id: `demo-${step}-${i}`, step, kind, query: task.query, completion, ground_truth: task.truth }));
  }
}
writeFileSync(path.join(__dirname, "..", "demo", "rollouts.jsonl"), lines.join("\n") + "\n");
console.log(`wrote ${lines.length} demo rollouts`);
