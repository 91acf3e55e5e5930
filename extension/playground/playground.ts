// The playground panel's host side: what the webview asks for (a run, a dataset prompt, N samples from one
// checkpoint or two), answered with runs/playground.ts. Sampling runs here, in the extension host, with
// onnxruntime-node; scoring runs in the scoring CLI's own process, with the reward the user is editing
// (the open editor's buffer of the run's schedule, saved or not).

import path from "node:path";
import * as vscode from "vscode";

import type { ToolCall } from "../../reward/parse";
import {
  checkpointForStep,
  checkTemplate,
  datasetPrompts,
  ensureExport,
  isExported,
  listCheckpoints,
  parsePromptFields,
  PolicyCache,
  runReward,
  sampleAndScore,
  type DatasetPrompt,
  type PlaygroundCheckpoint,
  type PlaygroundPrompt,
  type PlaygroundResult,
  type RewardChoice,
} from "../../runs/playground";
import { TEMPLATES, type Message } from "../../runs/prompts";
import { readRunInfo } from "../../runs/runDir";
import { parsePlaygroundMessage, type HostToPlayground, type PlaygroundAsk, type PlaygroundPromptFields } from "../../webview/protocol";
import { cliEnv, cliPath } from "../plumbing/cli";
import { insideWorkspace, requireStoredCode } from "../plumbing/trust";
import { webviewHtml, webviewOptions } from "../plumbing/webviewHtml";
import type { Runs } from "../runs/pickRun";

/** Where the playground opens: a run, and optionally a sample's prompt at its step ("Resample this prompt"). */
export interface PlaygroundStart {
  runDir: string;
  step?: number;
  tools?: unknown[];
  messages?: Message[];
  groundTruth?: ToolCall[];
  origin?: string;
}

function promptFields(tools: unknown[], messages: readonly Message[], groundTruth: readonly ToolCall[] | null): PlaygroundPromptFields {
  const last = messages.at(-1);
  const endsWithRequest = last?.role === "user";
  return {
    tools: JSON.stringify(tools, null, 2),
    history: (endsWithRequest ? messages.slice(0, -1) : messages).filter((m) => m.role !== "system").map((m) => ({ role: m.role, content: m.content })),
    request: endsWithRequest ? last.content : "",
    groundTruth: groundTruth ? JSON.stringify(groundTruth) : "",
  };
}

export class Playground implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private runDir = "";
  private checkpoints: PlaygroundCheckpoint[] = [];
  private prompts: DatasetPrompt[] = [];
  private readonly policies = new PolicyCache();
  private busy = false;
  /** Where the panel was first opened: what its webview's first "ready" sets up. */
  private start: PlaygroundStart | undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly runs: Runs) {}

  dispose(): void {
    this.panel?.dispose();
  }

  /** Opens (or reveals) the panel on a run; with a sample, on that sample's prompt at the checkpoint that wrote it or the first after. */
  open(start: PlaygroundStart): void {
    if (!vscode.workspace.isTrusted) throw new Error("This workspace is not trusted: the playground runs the engine (to export a checkpoint) and reward code, so it is off in Restricted Mode.");
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel("rolloutStudio.playground", "Playground", vscode.ViewColumn.Beside, { ...webviewOptions(this.context.extensionUri), retainContextWhenHidden: true });
      this.panel.webview.html = webviewHtml(this.panel.webview, this.context.extensionUri, "playground", "Playground");
      this.start = start;
      this.panel.onDidDispose(() => {
        this.panel = undefined;
        this.policies.clear(); // the sessions' memory goes back with the panel
      });
      this.panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw));
    } else {
      this.panel.reveal();
      this.setup(start);
    }
  }

  private post(message: HostToPlayground): void {
    void this.panel?.webview.postMessage(message);
  }

  private error(e: unknown): void {
    this.post({ type: "notice", notice: { level: "error", message: (e as Error).message } });
  }

  private onMessage(raw: unknown): void {
    const message = parsePlaygroundMessage(raw);
    if (!message) return;
    try {
      switch (message.type) {
        case "ready":
          if (this.start) this.setup(this.start);
          break;
        case "pickRun":
          // Only a run the window lists: the webview's message is data, not a path to trust.
          if (this.runs.tree.runDirs().includes(message.runDir)) this.setup({ runDir: message.runDir });
          break;
        case "pickPrompt": {
          const prompt = this.prompts.find((p) => p.id === message.id);
          if (prompt) this.post({ type: "prompt", prompt: promptFields(prompt.tools, prompt.messages, prompt.groundTruth) });
          break;
        }
        case "sample":
          void this.sample(message.ask).catch((e) => this.error(e));
          break;
      }
    } catch (e) {
      this.error(e);
    }
  }

  /** Shows a run; the panel's state changes only once the run is read (a run that cannot be shown leaves the last one). */
  private setup(start: PlaygroundStart): void {
    if (this.busy) throw new Error("Still sampling: wait for the answers before switching runs or prompts.");
    const info = readRunInfo(start.runDir);
    const checkpoints = listCheckpoints(start.runDir);
    if (!checkpoints.length) throw new Error(`${path.basename(start.runDir)} has no checkpoint yet and its base is not on this machine: checkpoints are written every [run] checkpoint_every steps (or use Checkpoint Now).`);
    const { prompts, skipped } = datasetPrompts(start.runDir);
    this.runDir = start.runDir;
    this.checkpoints = checkpoints;
    this.prompts = prompts;
    const atStep = start.step !== undefined ? checkpointForStep(this.checkpoints, start.step) : null;
    const chosen = atStep ?? this.checkpoints.at(-1)!;
    const first = prompts[0];
    const prompt = start.messages ? promptFields(start.tools ?? [], start.messages, start.groundTruth ?? null) : first ? promptFields(first.tools, first.messages, first.groundTruth) : undefined;
    const template = info.config.data?.template ?? "tool-zero";
    this.post({
      type: "setup",
      runDir: start.runDir,
      runs: this.runs.tree.runDirs().map((d) => ({ runDir: d, label: path.basename(d) })),
      checkpoints: this.checkpoints.map((c) => ({ id: c.id, label: c.label })),
      checkpoint: chosen.id,
      templates: TEMPLATES,
      template: (TEMPLATES as string[]).includes(template) ? template : "tool-zero",
      prompts: prompts.map((p) => ({ id: p.id, label: p.label })),
      reward: this.reward().label,
      ...(prompt ? { prompt } : {}),
      ...(start.origin ? { origin: `${start.origin} of ${path.basename(start.runDir)}${atStep ? `: checkpoint ${atStep.label} (the first at or after the policy that wrote it)` : ": the run has no checkpoint that late, so its latest"}` } : {}),
    });
    if (skipped) this.post({ type: "notice", notice: { level: "warning", message: `${skipped} line(s) of the run's dataset files are not samples and are not offered as prompts (the engine reports where).` } });
  }

  /** The run's reward as the user is editing it: its schedule's open buffer when that has unsaved changes (runReward). */
  private reward(): RewardChoice {
    const open = vscode.workspace.textDocuments.filter((d) => d.uri.scheme === "file").map((d) => ({ file: d.uri.fsPath, dirty: d.isDirty, text: () => d.getText() }));
    return runReward(this.runDir, open);
  }

  private async sample(ask: PlaygroundAsk): Promise<void> {
    if (this.busy) {
      this.post({ type: "notice", notice: { level: "info", message: "Still sampling: wait for the answers before asking again." } });
      return;
    }
    this.busy = true;
    const started = performance.now();
    // One run for the whole request, whatever the panel is asked meanwhile.
    const { runDir, checkpoints } = this;
    try {
      const { tools, groundTruth } = parsePromptFields(ask);
      const template = checkTemplate(ask.template);
      // A stored prompt may end with a tool result or an assistant turn: then it is answered as it is.
      const endsOpen = ask.history.length > 0 && ask.history.at(-1)!.role !== "user";
      if (!ask.request.trim() && !endsOpen) throw new Error("Request: write what the user asks (the last user message).");
      const messages = ask.request.trim() ? [...ask.history, { role: "user", content: ask.request }] : ask.history;
      const prompt = { tools, messages, groundTruth, template };
      const reward = this.reward();
      const file = reward.file ?? (reward.args[0] === "--schedule" ? reward.args[1] : undefined);
      if (file && !insideWorkspace(file)) await requireStoredCode(runDir, "to score the playground's answers with its schedule");
      const ids = [ask.checkpoint, ...(ask.compare && ask.compare !== ask.checkpoint ? [ask.compare] : [])];
      for (const [column, id] of ids.entries()) {
        const checkpoint = checkpoints.find((c) => c.id === id);
        if (!checkpoint) throw new Error(`no checkpoint "${id}" in ${path.basename(runDir)}`);
        const result = await this.sampleOne(runDir, checkpoint, prompt, ask, reward);
        this.post({ type: "results", column: column as 0 | 1, result, truth: groundTruth, reward: reward.label });
      }
      this.post({ type: "done", seconds: (performance.now() - started) / 1000 });
    } finally {
      this.busy = false;
    }
  }

  private async sampleOne(runDir: string, checkpoint: PlaygroundCheckpoint, prompt: PlaygroundPrompt, ask: PlaygroundAsk, reward: RewardChoice): Promise<PlaygroundResult> {
    const loadStart = performance.now();
    if (!isExported(runDir, checkpoint)) this.post({ type: "status", text: `Exporting ${checkpoint.label} to ONNX (once per checkpoint)…` });
    const folder = await ensureExport(runDir, checkpoint, this.runs.manager.engineProcess());
    const policy = await this.policies.get(folder);
    const loadMs = performance.now() - loadStart;
    this.post({ type: "status", text: `Sampling ${ask.n} answers from ${checkpoint.label}…` });
    const options = { n: ask.n, maxNewTokens: ask.maxNewTokens, temperature: ask.temperature, topP: ask.topP, seed: ask.seed };
    const scoring = { cli: cliPath(this.context.extensionPath), env: cliEnv(), template: prompt.template, timeoutMs: 120_000 };
    return sampleAndScore(policy, checkpoint, prompt, options, reward, scoring, loadMs);
  }
}
