// The rollout explorer: a custom editor for rollout files (JSONL) and a panel over a run's steps. The
// host indexes the samples (runs/samples.ts) and sends the webview small rows; a sample's full record is
// read from disk when its detail opens.

import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";

import { cliPath } from "../plumbing/cli";
import { appendCase } from "../../runs/addCase";
import { differenceCosts } from "../../runs/counterfactual";
import { presetArgs, withScheduleSource } from "../../runs/rescore";
import { readRewardVersion, readRunInfo, stepFiles } from "../../runs/runDir";
import { SampleStore } from "../../runs/samples";
import { parseExplorerMessage, type HostToExplorer, type Query } from "../../webview/protocol";
import { debugRewardOnSample, openComponentSource } from "./rewardDebug";
import { mayRunStoredCode, requireStoredCode } from "../plumbing/trust";
import { webviewHtml, webviewOptions } from "../plumbing/webviewHtml";

export const EXPLORER_EDITOR = "rolloutStudio.rolloutExplorer";
/** The same editor offered ("Reopen Editor With…") for any JSONL file. */
export const EXPLORER_EDITOR_ANY = "rolloutStudio.rolloutExplorerAnyJsonl";
export const EXPLORER_PANEL = "rolloutStudio.explorer";
const CALLS_SCHEME = "rollout-studio-calls";

/** Read-only documents for "Open in Diff Editor": the two call lists as formatted JSON. */
class CallsDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  set(name: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: CALLS_SCHEME, path: `/${name}.json` });
    this.contents.set(uri.path, text);
    return uri;
  }
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.path) ?? "";
  }
}

interface Source {
  title: string;
  /** The run the files belong to, when they do: its reward versions price each tool-call difference. */
  runDir?: string;
  /** The one step shown, when only one is. */
  step?: number;
  /** Only these samples ("step/group/sample"), e.g. a monitor's flagged ones. */
  only?: { keys: Set<string>; label: string };
  /** The files to read, in order: a rollout file and its compact index when the run has one. Re-listed while a run is live, so new steps appear. */
  files: () => { rollouts: string; index?: string }[];
}

/** Files are read a few at a time between messages, so the first rows show while a long run loads. */
const FILES_PER_SLICE = 8;

class ExplorerSession {
  private store = new SampleStore();
  private readonly loaded = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private query: Query = {};
  private view: Int32Array = new Int32Array(0);
  private generation = 0;
  private loading = false;
  private disposed = false;
  private refreshedAt = 0;

  private readonly extensionPath: string;

  constructor(readonly panel: vscode.WebviewPanel, private readonly source: Source, extensionUri: vscode.Uri, private readonly calls: CallsDocuments, follow: boolean) {
    this.extensionPath = extensionUri.fsPath;
    panel.webview.options = webviewOptions(extensionUri);
    panel.webview.html = webviewHtml(panel.webview, extensionUri, "explorer", source.title);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      panel.onDidDispose(() => this.dispose()),
    );
    if (follow) this.timer = setInterval(() => void this.load(false), 2000);
  }

  private post(message: HostToExplorer): void {
    if (!this.disposed) void this.panel.webview.postMessage(message);
  }

  /** Reads files not read yet, a slice at a time, posting the view after each slice. */
  private async load(reset: boolean): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    try {
      if (reset) {
        this.store = new SampleStore();
        this.loaded.clear();
      }
      let files: { rollouts: string; index?: string }[];
      try {
        files = this.source.files().filter((f) => !this.loaded.has(f.rollouts));
      } catch (e) {
        this.post({ type: "notice", notice: { level: "error", message: (e as Error).message } });
        return;
      }
      if (reset && files.length === 0) {
        this.refresh(false);
        this.post({ type: "notice", notice: { level: "info", message: "No rollouts yet: the first step's samples appear here when it ends." } });
        return;
      }
      for (let k = 0; k < files.length && !this.disposed; k += FILES_PER_SLICE) {
        const badBefore = this.store.bad.length;
        for (const f of files.slice(k, k + FILES_PER_SLICE)) {
          try {
            if (f.index) this.store.addIndexFile(f.index, f.rollouts);
            else this.store.addRolloutFile(f.rollouts);
            this.loaded.add(f.rollouts);
          } catch (e) {
            this.post({ type: "notice", notice: { level: "error", message: `${f.rollouts}: ${(e as Error).message}` } });
          }
        }
        const more = k + FILES_PER_SLICE < files.length;
        // The first slice at once (the first rows), then a fresh view at most every half second.
        if (!more || k === 0 || Date.now() - this.refreshedAt > 500) this.refresh(more);
        for (const bad of this.store.bad.slice(badBefore)) {
          this.post({ type: "notice", notice: { level: "warning", message: `${path.basename(bad.file)} line ${bad.line}: ${bad.error}; the readable rows are shown` } });
        }
        await new Promise((resolve) => setImmediate(resolve)); // let messages (pages, details) through
      }
    } finally {
      this.loading = false;
    }
  }

  /** Runs the query again and tells the webview the new view. */
  private refresh(loading: boolean): void {
    this.refreshedAt = Date.now();
    this.view = this.store.query(this.query);
    const only = this.source.only;
    if (only) {
      this.view = this.view.filter((i) => {
        const r = this.store.row(i);
        return only.keys.has(`${r.step}/${r.group}/${r.sample}`);
      });
    }
    this.generation++;
    this.post({
      type: "view",
      title: this.source.title,
      ...(this.source.runDir ? { runDir: this.source.runDir } : {}),
      ...(this.source.step !== undefined ? { step: this.source.step } : {}),
      generation: this.generation,
      total: this.store.size,
      count: this.view.length,
      components: this.store.components,
      steps: [...this.store.steps].sort((a, b) => a - b),
      reasons: this.store.reasons.values,
      versions: this.store.versions.values,
      loading,
    });
  }

  private onMessage(raw: unknown): void {
    const message = parseExplorerMessage(raw);
    if (!message) return;
    try {
      switch (message.type) {
        case "ready":
          this.query = message.query ?? {};
          void this.load(true);
          break;
        case "query":
          this.query = message.query;
          this.refresh(this.loading);
          break;
        case "page": {
          const rows = [];
          for (let k = message.offset; k < Math.min(this.view.length, message.offset + message.count); k++) rows.push(this.store.row(this.view[k] as number));
          this.post({ type: "page", generation: this.generation, offset: message.offset, rows });
          break;
        }
        case "detail":
          this.post({ type: "detail", detail: this.store.detail(message.index) });
          if (this.source.runDir) void this.costs(message.index, this.source.runDir);
          break;
        case "addCase": {
          const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
          if (!folder || !this.source.runDir) throw new Error("Add as Reward Test Case needs an open folder and a sample from a run directory");
          const info = readRunInfo(this.source.runDir);
          const file = path.join(folder, "reward-cases", `${path.basename(this.source.runDir)}.reward-cases.jsonl`);
          const line = appendCase(file, this.store.record(message.index), info);
          void vscode.window.showTextDocument(vscode.Uri.file(file), { selection: new vscode.Range(line - 1, 0, line - 1, 0), viewColumn: vscode.ViewColumn.Beside, preview: false });
          break;
        }
        case "resample": {
          const runDir = this.source.runDir;
          if (!runDir) throw new Error("This sample is not from a run directory: the playground samples a run's checkpoints.");
          const record = this.store.record(message.index);
          const origin = `step ${record.step} · group ${record.group} · sample ${record.sample}`;
          void vscode.commands.executeCommand("rolloutStudio.openPlayground", runDir, { step: record.step, tools: record.prompt.tools, messages: record.prompt.messages, groundTruth: record.ground_truth, origin });
          break;
        }
        case "debug":
        case "openSource": {
          const runDir = this.source.runDir;
          if (!runDir) throw new Error("This sample is not from a run directory, so the reward version that scored it is not known.");
          if (!vscode.workspace.isTrusted) throw new Error("This workspace is not trusted: Rollout Studio runs no reward code in it.");
          const record = this.store.record(message.index);
          // Debugging runs the version's stored code; opening its source only shows it.
          const allowed = message.type === "debug" ? requireStoredCode(runDir, "under the debugger on this sample") : Promise.resolve();
          const done = allowed.then(() => (message.type === "debug" ? debugRewardOnSample(this.extensionPath, runDir, record) : openComponentSource(runDir, record, message.component)));
          done.catch((e: Error) => this.post({ type: "notice", notice: { level: "error", message: e.message } }));
          break;
        }
        case "openDiff": {
          const d = this.store.detail(message.index);
          const name = `step${d.step}-group${d.group}-sample${d.sample}`;
          const left = this.calls.set(`${name}-expected`, JSON.stringify(d.ground_truth, null, 2) + "\n");
          const right = this.calls.set(`${name}-predicted`, d.calls ? JSON.stringify(d.calls, null, 2) + "\n" : `// the completion did not parse: ${d.parse_failure?.reason ?? "no calls"}\n`);
          void vscode.commands.executeCommand("vscode.diff", left, right, `Calls: expected ↔ predicted (${name})`);
          break;
        }
      }
    } catch (e) {
      this.post({ type: "notice", notice: { level: "error", message: (e as Error).message } });
    }
  }

  /** Re-scores the sample with each tool-call difference fixed, with the reward version that scored it. */
  private async costs(index: number, runDir: string): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      this.post({ type: "costs", index, costs: null, note: "This workspace is not trusted: reward code does not run in it, so the cost of each difference is not computed." });
      return;
    }
    try {
      const record = this.store.record(index);
      const info = readRunInfo(runDir);
      const options = { cli: cliPath(this.extensionPath), template: info.config?.data?.template };
      const version = readRewardVersion(runDir, record.reward_version);
      let costs;
      if (version?.source && version.source_file) {
        if (!(await mayRunStoredCode(runDir, "to price each tool-call difference of its samples", "unless declined"))) {
          this.post({ type: "costs", index, costs: null, note: `This run folder is outside the workspace and running its stored reward code was not allowed, so the cost of each difference is not computed. Open the sample again after allowing it (or open the run from inside the workspace).` });
          return;
        }
        costs = await withScheduleSource(version.source, version.source_file, (file) => differenceCosts(record, ["--schedule", file], options));
      } else if (info.config?.reward?.preset) {
        costs = await differenceCosts(record, presetArgs(info.config.reward.preset, (info.config.reward as { options?: Record<string, unknown> }).options), options);
      } else {
        this.post({ type: "costs", index, costs: null, note: `Reward version ${record.reward_version} has no stored source, so the cost of each difference cannot be computed.` });
        return;
      }
      this.post({ type: "costs", index, costs, ...(costs === null ? { note: "The completion's calls did not parse: there is no call block to fix one difference at a time." } : {}) });
    } catch (e) {
      this.post({ type: "costs", index, costs: null, note: `The cost of each difference could not be computed: ${(e as Error).message}` });
    }
  }

  private dispose(): void {
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

export class Explorers implements vscode.CustomReadonlyEditorProvider, vscode.Disposable {
  private readonly calls = new CallsDocuments();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.disposables.push(
      vscode.workspace.registerTextDocumentContentProvider(CALLS_SCHEME, this.calls),
      vscode.window.registerCustomEditorProvider(EXPLORER_EDITOR, this, { supportsMultipleEditorsPerDocument: true }),
      vscode.window.registerCustomEditorProvider(EXPLORER_EDITOR_ANY, this, { supportsMultipleEditorsPerDocument: true }),
      vscode.window.registerWebviewPanelSerializer(EXPLORER_PANEL, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const s = state as { runDir?: unknown; step?: unknown } | undefined;
          if (typeof s?.runDir !== "string") return panel.dispose();
          this.adoptRun(panel, s.runDir, typeof s.step === "number" ? s.step : undefined);
        },
      }),
    );
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const file = document.uri.fsPath;
    // A step file of a run directory: its index and the run's reward versions come with it.
    const runDir = path.dirname(path.dirname(file));
    const inRun = /^step-\d+\.jsonl$/.test(path.basename(file)) && path.basename(path.dirname(file)) === "rollouts" && fs.existsSync(path.join(runDir, "run.json"));
    const index = path.join(runDir, "index", path.basename(file));
    const files = () => [inRun && fs.existsSync(index) ? { rollouts: file, index } : { rollouts: file }];
    new ExplorerSession(panel, { title: path.basename(file), files, ...(inRun ? { runDir } : {}) }, this.context.extensionUri, this.calls, false);
  }

  /** The samples of a run: all steps, or one. */
  openRun(runDir: string, step?: number, only?: { keys: Set<string>; label: string }): void {
    const panel = vscode.window.createWebviewPanel(EXPLORER_PANEL, `Rollouts ${path.basename(runDir)}${step ? ` step ${step}` : ""}${only ? ` · ${only.label}` : ""}`, vscode.ViewColumn.Beside, webviewOptions(this.context.extensionUri));
    this.adoptRun(panel, runDir, step, only);
  }

  private adoptRun(panel: vscode.WebviewPanel, runDir: string, step?: number, only?: { keys: Set<string>; label: string }): void {
    // A step file is complete once run.json counts its step (the engine writes the step's rollouts first).
    const files = () => {
      const done = readRunInfo(runDir).step;
      return stepFiles(runDir)
        .filter((f) => (step === undefined || f.step === step) && f.step <= done)
        .map((f) => {
          const index = path.join(runDir, "index", path.basename(f.file));
          return fs.existsSync(index) ? { rollouts: f.file, index } : { rollouts: f.file };
        });
    };
    const title = `${path.basename(runDir)}${step ? ` · step ${step}` : ""}${only ? ` · ${only.label} (${only.keys.size})` : ""}`;
    new ExplorerSession(panel, { title, files, runDir, ...(step !== undefined ? { step } : {}), ...(only ? { only } : {}) }, this.context.extensionUri, this.calls, step === undefined && !only);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
