// The playground's work, without VS Code (extension/playground is its panel; docs/playground.md): which
// checkpoints a run has, exporting one to ONNX when it has no export yet, sampling N answers to a prompt
// with onnxruntime-node, and scoring each with a reward through the scoring CLI (its own process: the
// reward is user code). A prompt is a dataset sample's shape: tools, messages, an optional ground truth.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";

import type { ToolCall } from "../reward/parse";
import { storedSample } from "../reward/samples";
import { OnnxPolicy, type SampleOptions } from "./onnxPolicy";
import { TEMPLATES, type Message, type Template } from "./prompts";
import { pythonModuleCommand } from "./engine";
import { presetArgs, scoreWithCli, withScheduleSource, type RescoreOptions } from "./rescore";
import { readRunInfo } from "./runDir";

/** A policy the playground can sample: the run's base (step 0) or one of its checkpoints. */
export interface PlaygroundCheckpoint {
  /** "base" or "step-N": also the export's folder name under <run>/exports. */
  id: string;
  label: string;
  /** 0 for the base. */
  step: number;
  /** The training time the engine would score this policy's samples at: step N + 1, progress N / max_steps. */
  time: { step: number; progress: number };
}

/** The run's base first (when it is a tiny base folder on this machine), then every checkpoint, oldest first. */
export function listCheckpoints(runDir: string): PlaygroundCheckpoint[] {
  const info = readRunInfo(runDir);
  const maxSteps = Number((info.config.grpo as { max_steps?: number } | undefined)?.max_steps) || 0;
  const time = (step: number) => ({ step: step + 1, progress: maxSteps ? step / maxSteps : 0 });
  const out: PlaygroundCheckpoint[] = [];
  if (info.base && fs.existsSync(path.join(info.base, "tokenizer.json"))) out.push({ id: "base", label: "base (step 0, before RL)", step: 0, time: time(0) });
  for (const c of info.checkpoints) out.push({ id: `step-${c.step}`, label: `step ${c.step}`, step: c.step, time: time(c.step) });
  return out;
}

/**
 * The checkpoint that wrote a sample of `step`, or the first after it: a step's samples come from the
 * policy after step - 1 updates. Null when the run has no checkpoint that late.
 */
export function checkpointForStep(checkpoints: readonly PlaygroundCheckpoint[], step: number): PlaygroundCheckpoint | null {
  return checkpoints.find((c) => c.step >= step - 1) ?? null;
}

export function exportFolder(runDir: string, checkpoint: PlaygroundCheckpoint): string {
  return path.join(runDir, "exports", checkpoint.id);
}

export function isExported(runDir: string, checkpoint: PlaygroundCheckpoint): boolean {
  const out = exportFolder(runDir, checkpoint);
  return fs.existsSync(path.join(out, "model.onnx")) && fs.existsSync(path.join(out, "export.json"));
}

export interface EngineProcess {
  /** The Python that has the engine's packages (torch, onnx). */
  python: string;
  /** The extension's (or the checkout's) folder: its engine/ goes on PYTHONPATH. */
  root: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * The checkpoint's ONNX export, written by the engine (`rollout_engine.export`) when it is not there yet.
 * Resolves with its folder; rejects with the engine's own message (no checkpoint, not a tiny policy, no
 * onnx package).
 */
export async function ensureExport(runDir: string, checkpoint: PlaygroundCheckpoint, engine: EngineProcess): Promise<string> {
  const out = exportFolder(runDir, checkpoint);
  if (isExported(runDir, checkpoint)) return out;
  const info = readRunInfo(runDir);
  const which = checkpoint.id === "base" ? ["--base", info.base ?? "", "--out", out] : ["--run", runDir, "--step", String(checkpoint.step)];
  const { command, args, env } = pythonModuleCommand(engine.root, "rollout_engine.export", which, { python: engine.python, ...(engine.env ? { env: engine.env } : {}) });
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout!.resume();
    const limit = engine.timeoutMs ?? 15 * 60_000; // a 0.5B hf model takes about 35 s on 2 cores
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, limit);
    child.on("error", (e) => reject(new Error(`could not start ${engine.python} to export ${checkpoint.label}: ${e.message}`)));
    child.on("close", (code) => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`exporting ${checkpoint.label} took longer than ${Math.round(limit / 1000)} s and was stopped; export it from a terminal (rollout-studio export --run RUN --step N) and pick it again`));
      else if (code === 0) resolve();
      else reject(new Error(stderr.trim().split("\n").slice(-3).join("\n") || `exporting ${checkpoint.label} failed (exit ${code})`));
    });
  });
  return out;
}

/** Loaded policies by export folder, the most recently used `keep` of them (an hf model holds GBs): picking a checkpoint again costs nothing. */
export class PolicyCache {
  private readonly loaded = new Map<string, Promise<OnnxPolicy>>();
  constructor(private readonly keep = 2) {}

  get(folder: string): Promise<OnnxPolicy> {
    let policy = this.loaded.get(folder);
    if (policy) this.loaded.delete(folder); // re-inserted below: the Map's order is the order of use
    else {
      policy = OnnxPolicy.load(folder);
      policy.catch(() => this.loaded.delete(folder));
    }
    this.loaded.set(folder, policy);
    for (const [old, loading] of this.loaded) {
      if (this.loaded.size <= this.keep) break;
      this.loaded.delete(old);
      void loading.then((p) => p.session.release()).catch(() => undefined);
    }
    return policy;
  }

  /** Frees every session (the panel closed). */
  clear(): void {
    for (const loading of this.loaded.values()) void loading.then((p) => p.session.release()).catch(() => undefined);
    this.loaded.clear();
  }
}

export interface PlaygroundPrompt {
  tools: unknown[];
  /** The conversation up to the request: its last message is the user's. */
  messages: Message[];
  /** The calls the answer should make; null: none given (answers are then scored as if no call were expected). */
  groundTruth: ToolCall[] | null;
  template: Template;
}

export interface AnswerComponent {
  name: string;
  value: number;
  why: string;
}

export interface PlaygroundAnswer {
  text: string;
  finish: "stop" | "length";
  tokens: number;
  reward: number | null;
  components: AnswerComponent[];
  /** The reward failed on this answer (a reward failure, not a score of 0). */
  failure?: string;
  /** Why the answer's calls did not parse, as the reward read it. */
  parseFailure?: string;
  /** The calls the reward read from the answer; null when they did not parse. */
  calls: ToolCall[] | null;
  reward_version: string;
}

export interface PlaygroundResult {
  checkpoint: PlaygroundCheckpoint;
  promptTokens: number;
  answers: PlaygroundAnswer[];
  /** Milliseconds: loading the policy (0 when cached), sampling, scoring. */
  timings: { loadMs: number; sampleMs: number; scoreMs: number };
}

export interface RewardChoice {
  /** --schedule FILE or --preset NAME [--options JSON]: what the scoring CLI is given. */
  args: string[];
  label: string;
  /** An unsaved buffer of the schedule: its text, scored as if saved at `file` (its imports resolve there). */
  source?: string;
  file?: string;
}

/**
 * The run's reward as the user is editing it: its schedule's open buffer when that has unsaved changes,
 * else the schedule file; or its preset with its options.
 */
export function runReward(runDir: string, openDocuments: readonly { file: string; dirty: boolean; text: () => string }[]): RewardChoice {
  const reward = readRunInfo(runDir).config.reward as { schedule?: string | null; preset?: string | null; options?: Record<string, unknown> };
  if (reward.schedule) {
    const open = openDocuments.find((d) => path.resolve(d.file) === path.resolve(reward.schedule!));
    const name = path.basename(reward.schedule);
    if (open?.dirty) return { args: [], label: `${name} (unsaved buffer)`, source: open.text(), file: reward.schedule };
    return { args: ["--schedule", reward.schedule], label: name };
  }
  if (reward.preset) {
    return { args: presetArgs(reward.preset, reward.options), label: `preset ${reward.preset}` };
  }
  throw new Error(`${path.basename(runDir)} names no reward in its configuration ([reward] schedule or preset), so answers cannot be scored.`);
}

/** Reads and checks the JSON the user typed: tools (a list of schemas) and a ground truth (a list of calls, or nothing). */
export function parsePromptFields(fields: { tools: string; groundTruth: string }): { tools: unknown[]; groundTruth: ToolCall[] | null } {
  const parse = (what: string, text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new Error(`${what}: not JSON (${(e as Error).message}). Write a JSON list, e.g. ${what === "Tools" ? '[{"name": "get_weather", "parameters": {…}}]' : '[{"name": "get_weather", "arguments": {"city": "Paris"}}]'}`);
    }
  };
  const tools = parse("Tools", fields.tools.trim() || "[]");
  if (!Array.isArray(tools) || tools.some((t) => typeof t !== "object" || t === null || typeof (t as { name?: unknown }).name !== "string")) {
    throw new Error('Tools: expected a JSON list of tool schemas, each with a "name" (and "description", "parameters")');
  }
  if (!fields.groundTruth.trim()) return { tools, groundTruth: null };
  const truth = parse("Ground truth", fields.groundTruth);
  if (!Array.isArray(truth)) throw new Error('Ground truth: expected a JSON list of calls, each {"name": …, "arguments": {…}} ([] for "no tool fits")');
  truth.forEach((c, i) => {
    const call = c as { name?: unknown; arguments?: unknown };
    if (typeof call?.name !== "string" || typeof call.arguments !== "object" || call.arguments === null || Array.isArray(call.arguments)) {
      throw new Error(`Ground truth: call ${i + 1} must be {"name": a string, "arguments": an object}`);
    }
  });
  return { tools, groundTruth: truth as ToolCall[] };
}

export function checkTemplate(template: string): Template {
  if (!(TEMPLATES as string[]).includes(template)) throw new Error(`unknown template "${template}"; templates: ${TEMPLATES.join(", ")}`);
  return template as Template;
}

/**
 * N answers from one policy, each scored by `reward` (through the scoring CLI, with --explain) at the
 * checkpoint's training time. An unsaved buffer (runReward's `source`) is written where the CLI can read
 * it only while the answers are scored, then removed.
 */
export async function sampleAndScore(
  policy: OnnxPolicy,
  checkpoint: PlaygroundCheckpoint,
  prompt: PlaygroundPrompt,
  options: SampleOptions,
  reward: RewardChoice,
  scoring: RescoreOptions,
  loadMs = 0,
): Promise<PlaygroundResult> {
  const ids = policy.encodePrompt({ tools: prompt.tools, messages: prompt.messages }, prompt.template);
  const sampleStart = performance.now();
  const sampled = await policy.sample(ids, options);
  const sampleMs = performance.now() - sampleStart;
  const truth = prompt.groundTruth ?? [];
  const wire = sampled.map((s, i) => ({ ...storedSample({ completion: s.text, ground_truth: truth, prompt: { tools: prompt.tools } }, prompt.template, String(i)), ...checkpoint.time }));
  const scoreStart = performance.now();
  const score = (args: string[]) => scoreWithCli(wire, [...args, "--explain"], scoring);
  const scored = reward.source !== undefined && reward.file ? await withScheduleSource(reward.source, reward.file, (file) => score(["--schedule", file])) : await score(reward.args);
  const scoreMs = performance.now() - scoreStart;
  const answers = sampled.map((s, i): PlaygroundAnswer => {
    const line = scored.find((l) => l.id === String(i));
    if (!line) return { text: s.text, finish: s.finish, tokens: s.tokens.length, reward: null, components: [], failure: "the scoring CLI gave no score for this answer", calls: null, reward_version: "" };
    return {
      text: s.text,
      finish: s.finish,
      tokens: s.tokens.length,
      reward: line.reward,
      components: Object.entries(line.components ?? {}).map(([name, value]) => ({ name, value, why: line.why?.[name] ?? "" })),
      ...(line.failure ? { failure: line.failure.message } : {}),
      ...(line.parse_failure ? { parseFailure: line.parse_failure_detail?.message ? `${line.parse_failure}: ${line.parse_failure_detail.message}` : line.parse_failure } : {}),
      calls: line.calls ?? null,
      reward_version: line.version,
    };
  });
  return { checkpoint, promptTokens: ids.length, answers, timings: { loadMs, sampleMs, scoreMs } };
}

export interface DatasetPrompt {
  id: string;
  label: string;
  tools: unknown[];
  messages: Message[];
  groundTruth: ToolCall[];
}

/**
 * A run's dataset prompts to start from: the first samples of its eval files and its train file,
 * labelled by their request. `skipped` counts lines that are not samples (the engine reports them).
 */
export function datasetPrompts(runDir: string, limit = 200): { prompts: DatasetPrompt[]; skipped: number } {
  const data = readRunInfo(runDir).config.data as { train?: string; eval?: string | string[] };
  const files = [...(Array.isArray(data.eval) ? data.eval : data.eval ? [data.eval] : []), ...(data.train ? [data.train] : [])].filter((f) => fs.existsSync(f));
  const prompts: DatasetPrompt[] = [];
  let skipped = 0;
  for (const file of files) {
    const lines = firstLines(file, Math.ceil(limit / files.length));
    lines.forEach((line, i) => {
      let s: { tools?: unknown[]; messages?: Message[]; ground_truth?: ToolCall[] };
      try {
        s = JSON.parse(line);
      } catch {
        skipped++;
        return;
      }
      if (!Array.isArray(s?.messages) || !s.messages.length || !s.messages.every((m) => typeof m?.role === "string" && typeof m.content === "string")) {
        skipped++;
        return;
      }
      prompts.push({ id: `${path.basename(file)}:${i + 1}`, label: `${path.basename(file, ".jsonl")} · ${s.messages.at(-1)!.content.slice(0, 80)}`, tools: s.tools ?? [], messages: s.messages, groundTruth: s.ground_truth ?? [] });
    });
  }
  return { prompts, skipped };
}

/** The first `count` non-empty lines of a file, reading only as much of it as they need. */
function firstLines(file: string, count: number): string[] {
  const fd = fs.openSync(file, "r");
  try {
    const chunk = Buffer.alloc(1 << 16);
    const decoder = new StringDecoder("utf8"); // a character split between two chunks stays whole
    let text = "";
    for (let read = 0; (read = fs.readSync(fd, chunk, 0, chunk.length, null)) > 0; ) {
      text += decoder.write(chunk.subarray(0, read));
      if (text.split("\n").filter(Boolean).length > count) break;
    }
    return text.split("\n").filter(Boolean).slice(0, count);
  } finally {
    fs.closeSync(fd);
  }
}
