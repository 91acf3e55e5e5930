// The playground's sampling speed in the extension host's Node (docs/benchmarks.md): the shipped tiny base
// exported to ONNX, then N answers of up to 64 new tokens to a demo prompt with onnxruntime-node on one
// thread: time to the first token (prefill of the prompt, N rows), and whole answers; then the playground
// panel's first answers after a checkpoint is picked (load, sample, score with the demo schedule).
//
//   npx tsx bench/playground-speed.ts [--n 4] [--tokens 64] [--repeats 20]

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import type { ToolCall } from "../reward/parse";
import { OnnxPolicy } from "../runs/onnxPolicy";
import { PolicyCache, sampleAndScore } from "../runs/playground";
import { promptMessages, renderPlain } from "../runs/prompts";

const ROOT = path.resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    n: { type: "string", default: "4" },
    tokens: { type: "string", default: "64" },
    repeats: { type: "string", default: "20" },
  },
});
const n = Number(values.n);
const tokens = Number(values.tokens);
const repeats = Number(values.repeats);

async function main(): Promise<void> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "rs-playground-"));
  let t = performance.now();
  const exported = spawnSync(
    "bash",
    [
      path.join(ROOT, "scripts", "python.sh"),
      "-m",
      "rollout_engine.export",
      "--base",
      path.join(ROOT, "engine", "base"),
      "--out",
      out,
    ],
    {
      env: { ...process.env, PYTHONPATH: path.join(ROOT, "engine") },
      encoding: "utf8",
    },
  );
  if (exported.status !== 0) throw new Error(exported.stderr);
  const exportWall = performance.now() - t;
  const size = fs.statSync(path.join(out, "model.onnx")).size;

  t = performance.now();
  const policy = await OnnxPolicy.load(out);
  const loadMs = performance.now() - t;
  const sample = JSON.parse(
    fs
      .readFileSync(
        path.join(ROOT, "demo", "data", "eval-unseen-tools.jsonl"),
        "utf8",
      )
      .split("\n")[0]!,
  ) as { tools: unknown[]; messages: { role: string; content: string }[] };
  const prompt = policy.tokenizer.encode(
    renderPlain(promptMessages(sample, "tool-zero"), "tool-zero"),
  );

  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const firstToken: number[] = [];
  const whole: number[] = [];
  const made: number[] = [];
  for (let r = 0; r < repeats; r++) {
    t = performance.now();
    await policy.step(
      Array.from({ length: n }, () => prompt),
      0,
      null,
    );
    firstToken.push(performance.now() - t);
    t = performance.now();
    // Answers stop at their end-of-sequence token or at --tokens, as in the playground.
    const answers = await policy.sample(prompt, {
      n,
      maxNewTokens: tokens,
      temperature: 1,
      topP: 1,
      seed: r,
    });
    whole.push(performance.now() - t);
    made.push(answers.reduce((s, a) => s + a.tokens.length, 0));
  }
  // The panel's first answer after a checkpoint is picked, as the extension does it: load the export
  // (already written beside the checkpoint), sample N answers, score them with the demo schedule through
  // the scoring CLI (its own process: Node start-up and the schedule's compile included).
  const cli = path.join(ROOT, "dist", "cli.cjs");
  const panel: number[] = [];
  const scoring: number[] = [];
  const checkpoint = { id: "base", label: "base", step: 0, time: { step: 1, progress: 0 } };
  const truthPrompt = { tools: sample.tools, messages: sample.messages, groundTruth: (sample as { ground_truth?: ToolCall[] }).ground_truth ?? [], template: "tool-zero" as const };
  const reward = { args: ["--schedule", path.join(ROOT, "demo", "reward-schedule.ts")], label: "reward-schedule.ts" };
  for (let r = 0; r < Math.min(repeats, 5); r++) {
    t = performance.now();
    const fresh = await new PolicyCache().get(out);
    const scored = await sampleAndScore(fresh, checkpoint, truthPrompt, { n, maxNewTokens: tokens, temperature: 1, topP: 1, seed: r }, reward, { cli, template: "tool-zero" });
    panel.push(performance.now() - t);
    scoring.push(scored.timings.scoreMs);
  }
  const result = {
    n,
    tokens,
    repeats,
    prompt_tokens: prompt.length,
    onnx_bytes: size,
    export_wall_ms: Math.round(exportWall),
    session_load_ms: Math.round(loadMs),
    first_token_ms: Number(median(firstToken).toFixed(1)),
    answers_ms_median: Number(median(whole).toFixed(1)),
    new_tokens_median: median(made),
    tokens_per_s: Math.round(median(made) / (median(whole) / 1000)),
    panel_first_answers_ms_median: Math.round(median(panel)),
    of_which_scoring_ms_median: Math.round(median(scoring)),
  };
  console.log(JSON.stringify(result, null, 2));
}

void main();
