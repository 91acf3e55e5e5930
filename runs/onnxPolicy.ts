// Sampling the tiny policy in the extension host with onnxruntime-node (the playground; docs/playground.md):
// the ONNX file `rollout_engine.export` writes is one decoding step with its KV cache, so a prompt is read
// once and each new token costs one small step. N samples of one prompt run as one batch.

import fs from "node:fs";
import path from "node:path";
import type { InferenceSession as Session } from "onnxruntime-node";

import { HfTokenizer } from "./hfTokenizer";
import { promptMessages, renderPlain, type Message, type Template } from "./prompts";
import { TinyTokenizer } from "./tinyTokenizer";

/** What sampling needs of a tokenizer: the tiny policy's own, or an hf model's. */
export interface PolicyTokenizer {
  decode(ids: number[]): string;
}

/** One cache tensor of the decoding step: fed as `input`, returned as `output` (export.py's cache_layout). */
export interface CacheEntry {
  input: string;
  output: string;
  dtype: "float32" | "int64";
  /** Its shape on the first call: 0 for the batch (the caller's row count) and 0 past positions. */
  shape: number[];
}

export interface ExportInfo {
  /** "hf": a transformers model with its own tokenizer files; absent: the tiny policy. */
  kind?: "hf";
  n_layer: number;
  n_head: number;
  head_dim: number;
  vocab_size: number;
  block_size: number;
  /** The cache tensors in order; exports from before the copy head have none: a key and a value per layer. */
  cache?: CacheEntry[];
  eos_id: number;
  pad_id: number;
  source: string;
  path: string;
  step?: number | null;
}

export interface SampleOptions {
  n: number;
  maxNewTokens: number;
  /** 0: greedy. */
  temperature: number;
  topP: number;
  seed: number;
}

export interface Sampled {
  tokens: number[];
  text: string;
  finish: "stop" | "length";
}

/** A small seeded generator (mulberry32): the same seed gives the same samples. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One token from a row of logits: the argmax when greedy, else from softmax(logits / temperature) within the top-p nucleus. */
export function pickToken(logits: Float32Array, temperature: number, topP: number, random: () => number): number {
  if (temperature <= 1e-5) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    return best;
  }
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  const probs = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += probs[i] = Math.exp((logits[i]! - max) / temperature);
  if (topP >= 1) {
    // The whole distribution: no sort (an hf model's vocabulary is 150k tokens, every token of every row).
    let r = random() * sum;
    for (let i = 0; i < probs.length; i++) if ((r -= probs[i]!) <= 0) return i;
    return probs.length - 1;
  }
  const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]!);
  let kept = 0;
  let mass = 0;
  for (const i of order) {
    if (mass >= topP * sum && kept > 0) break;
    mass += probs[i]!;
    kept++;
  }
  let r = random() * mass;
  for (let k = 0; k < kept; k++) {
    r -= probs[order[k]!]!;
    if (r <= 0) return order[k]!;
  }
  return order[kept - 1]!;
}

export class OnnxPolicy {
  /** The cache tensors the step takes: as export.json lists them, or a key and a value per layer. */
  private readonly cache: CacheEntry[];

  private constructor(
    readonly session: Session,
    readonly tokenizer: TinyTokenizer | HfTokenizer,
    readonly info: ExportInfo,
    readonly ort: typeof import("onnxruntime-node"),
  ) {
    const { n_layer: layers, n_head: heads, head_dim: dim } = info;
    this.cache =
      info.cache ??
      Array.from({ length: layers }, (_, i) =>
        (["key", "value"] as const).map((kind) => ({ input: `past_${kind}_${i}`, output: `present_${kind}_${i}`, dtype: "float32" as const, shape: [0, heads, 0, dim] })),
      ).flat();
  }

  /** Loads FOLDER/model.onnx, export.json and the tokenizer files (what `rollout-studio export` writes). */
  static async load(folder: string): Promise<OnnxPolicy> {
    for (const file of ["model.onnx", "tokenizer.json", "export.json"]) {
      if (!fs.existsSync(path.join(folder, file))) throw new Error(`${folder}: no ${file}; export the checkpoint first (rollout-studio export --run RUN [--step N])`);
    }
    const ort = await import("onnxruntime-node");
    const session = await ort.InferenceSession.create(path.join(folder, "model.onnx"), { intraOpNumThreads: 1, graphOptimizationLevel: "all" });
    const info = JSON.parse(fs.readFileSync(path.join(folder, "export.json"), "utf8")) as ExportInfo;
    const tokenizer = info.kind === "hf" ? HfTokenizer.load(folder) : TinyTokenizer.load(path.join(folder, "tokenizer.json"));
    return new OnnxPolicy(session, tokenizer, info, ort);
  }

  /**
   * The prompt's ids as the engine gives them to this policy: the tiny policy reads the template's plain
   * text; an hf model reads the plain templates as text with its special tokens, and the chat templates
   * (tool-n1, toolrl) through its own chat template, as hf_policy.encode_prompt does.
   */
  encodePrompt(sample: { tools: unknown[]; messages: Message[] }, template: Template): number[] {
    const conversation = promptMessages(sample, template);
    const tokenizer = this.tokenizer;
    if (tokenizer instanceof TinyTokenizer) return tokenizer.encode(renderPlain(conversation, template));
    const chat = template === "tool-n1" || template === "toolrl";
    if (chat && tokenizer.hasChatTemplate) return tokenizer.encode(tokenizer.applyChatTemplate(conversation));
    return tokenizer.encode(renderPlain(conversation, template), true);
  }

  /** One decoding step over `n` rows: logits (n × V) of the last position and the new cache. */
  async step(ids: number[][], position: number, past: Session.OnnxValueMapType | null): Promise<{ logits: Float32Array; cache: Session.OnnxValueMapType }> {
    const n = ids.length;
    const width = ids[0]!.length;
    const feeds: Record<string, import("onnxruntime-node").Tensor> = {
      input_ids: new this.ort.Tensor("int64", BigInt64Array.from(ids.flat(), (x) => BigInt(x)), [n, width]),
      position: new this.ort.Tensor("int64", BigInt64Array.of(BigInt(position)), [1]),
    };
    for (const entry of this.cache) {
      const carried = past?.[entry.output] as import("onnxruntime-node").Tensor | undefined;
      const shape = [n, ...entry.shape.slice(1)];
      feeds[entry.input] = carried ?? (entry.dtype === "int64" ? new this.ort.Tensor("int64", new BigInt64Array(0), shape) : new this.ort.Tensor("float32", new Float32Array(0), shape));
    }
    const out = await this.session.run(feeds);
    return { logits: out.logits!.data as Float32Array, cache: out };
  }

  /** `n` continuations of the prompt. Rows that have ended keep stepping (the batch moves together) but add nothing. */
  async sample(promptIds: number[], options: SampleOptions): Promise<Sampled[]> {
    const { n, maxNewTokens, temperature, topP, seed } = options;
    if (promptIds.length + maxNewTokens > this.info.block_size) {
      throw new Error(`the prompt (${promptIds.length} tokens) and ${maxNewTokens} new tokens pass the model's ${this.info.block_size} positions`);
    }
    const random = seededRandom(seed);
    const vocab = this.info.vocab_size;
    const rows: Sampled[] = Array.from({ length: n }, () => ({ tokens: [], text: "", finish: "length" as const }));
    const done = new Array<boolean>(n).fill(false);
    let { logits, cache } = await this.step(Array.from({ length: n }, () => promptIds), 0, null);
    let position = promptIds.length;
    for (let t = 0; t < maxNewTokens; t++) {
      const next: number[][] = [];
      for (let r = 0; r < n; r++) {
        const token = done[r] ? this.info.pad_id : pickToken(logits.subarray(r * vocab, (r + 1) * vocab), temperature, topP, random);
        if (!done[r]) {
          if (token === this.info.eos_id) {
            done[r] = true;
            rows[r]!.finish = "stop";
          } else rows[r]!.tokens.push(token);
        }
        next.push([token]);
      }
      if (done.every(Boolean) || t === maxNewTokens - 1) break;
      ({ logits, cache } = await this.step(next, position, cache));
      position++;
    }
    for (const row of rows) row.text = this.tokenizer.decode(row.tokens);
    return rows;
  }
}
