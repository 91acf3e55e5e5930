// How large an hf model the playground can sample in the extension host (docs/benchmarks.md): a
// transformers model folder exported by the engine (`rollout_engine.export --base`), then loaded and
// sampled with onnxruntime-node on one thread as the panel does.
//
//   python -m rollout_engine.hf_model --shape qwen2.5-0.5b --out /tmp/q05   # Qwen2.5-0.5B's shape, random weights
//   npx tsx bench/playground-hf.ts --model /tmp/q05 [--tokens 32]

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { OnnxPolicy } from "../runs/onnxPolicy";

const ROOT = path.resolve(import.meta.dirname, "..");
const { values } = parseArgs({ options: { model: { type: "string" }, tokens: { type: "string", default: "32" } } });
if (!values.model) throw new Error("--model FOLDER: a transformers model folder (python -m rollout_engine.hf_model makes one)");

async function main(): Promise<void> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "rs-hf-export-"));
  let t = performance.now();
  const exported = spawnSync("bash", [path.join(ROOT, "scripts", "python.sh"), "-m", "rollout_engine.export", "--base", values.model!, "--out", out], {
    env: { ...process.env, PYTHONPATH: path.join(ROOT, "engine") },
    encoding: "utf8",
  });
  if (exported.status !== 0) throw new Error(exported.stderr);
  const exportMs = performance.now() - t;
  const meta = JSON.parse(fs.readFileSync(path.join(out, "export.json"), "utf8")) as { params: number; bytes: number };
  t = performance.now();
  const policy = await OnnxPolicy.load(out);
  const loadMs = performance.now() - t;
  const tools = [{ name: "get_weather", description: "Weather forecast for a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } }];
  const ids = policy.encodePrompt({ tools, messages: [{ role: "user", content: "What is the weather in Oslo?" }] }, "tool-n1");
  t = performance.now();
  await policy.step([ids], 0, null);
  const firstMs = performance.now() - t;
  t = performance.now();
  const [answer] = await policy.sample(ids, { n: 1, maxNewTokens: Number(values.tokens), temperature: 1, topP: 1, seed: 1 });
  const answerMs = performance.now() - t;
  console.log(JSON.stringify({
    params: meta.params, onnx_bytes: meta.bytes, export_wall_ms: Math.round(exportMs), session_load_ms: Math.round(loadMs), prompt_tokens: ids.length,
    first_token_ms: Math.round(firstMs), new_tokens: answer!.tokens.length, answer_ms: Math.round(answerMs), ms_per_token: Number((answerMs / answer!.tokens.length).toFixed(1)),
    rss_mb: Math.round(process.memoryUsage().rss / 1e6),
  }, null, 2));
  fs.rmSync(out, { recursive: true, force: true });
}

void main();
