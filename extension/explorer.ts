// The rollout explorer: a custom editor for rollout files (JSONL) and a panel over a run's steps. The
// host indexes the samples (runs/samples.ts) and sends the webview small rows; a sample's full record is
// read from disk when its detail opens.

import path from "node:path";
import * as vscode from "vscode";

import { readRunInfo, stepFiles } from "../runs/runDir";
import { SampleIndex } from "../runs/samples";
import { parseExplorerMessage, type HostToExplorer } from "../webview/protocol";
import { webviewHtml, webviewOptions } from "./webviewHtml";

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
  /** The files to index; re-listed while a run is live, so new steps appear. */
  files: () => string[];
}

class ExplorerSession {
  private index = new SampleIndex();
  private readonly loaded = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly panel: vscode.WebviewPanel, private readonly source: Source, extensionUri: vscode.Uri, private readonly calls: CallsDocuments, follow: boolean) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.webview.html = webviewHtml(panel.webview, extensionUri, "explorer", source.title);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      panel.onDidDispose(() => this.dispose()),
    );
    if (follow) this.timer = setInterval(() => this.loadNew(false), 2000);
  }

  private post(message: HostToExplorer): void {
    void this.panel.webview.postMessage(message);
  }

  private loadNew(reset: boolean): void {
    if (reset) {
      this.index = new SampleIndex();
      this.loaded.clear();
    }
    const first = this.index.rows.length;
    const badBefore = this.index.bad.length;
    let files: string[];
    try {
      files = this.source.files();
    } catch (e) {
      this.post({ type: "notice", notice: { level: "error", message: (e as Error).message } });
      return;
    }
    for (const file of files) {
      if (this.loaded.has(file)) continue;
      try {
        this.index.addFile(file);
        this.loaded.add(file);
      } catch (e) {
        this.post({ type: "notice", notice: { level: "error", message: `${file}: ${(e as Error).message}` } });
      }
    }
    if (!reset && this.index.rows.length === first) return;
    this.post({
      type: "rows",
      title: this.source.title,
      rows: this.index.rows.slice(first),
      components: [...this.index.components],
      steps: [...this.index.steps].sort((a, b) => a - b),
      reset,
    });
    for (const bad of this.index.bad.slice(badBefore)) {
      this.post({ type: "notice", notice: { level: "warning", message: `${path.basename(bad.file)} line ${bad.line}: ${bad.error}; the readable rows are shown` } });
    }
    if (reset && files.length === 0) this.post({ type: "notice", notice: { level: "info", message: "No rollouts yet: the first step's samples appear here when it ends." } });
  }

  private onMessage(raw: unknown): void {
    const message = parseExplorerMessage(raw);
    if (!message) return;
    try {
      if (message.type === "ready") this.loadNew(true);
      else if (message.type === "detail") this.post({ type: "detail", detail: this.index.detail(message.index) });
      else if (message.type === "openDiff") {
        const d = this.index.detail(message.index);
        const name = `step${d.step}-group${d.group}-sample${d.sample}`;
        const left = this.calls.set(`${name}-expected`, JSON.stringify(d.ground_truth, null, 2) + "\n");
        const right = this.calls.set(`${name}-predicted`, d.calls ? JSON.stringify(d.calls, null, 2) + "\n" : `// the completion did not parse: ${d.parse_failure?.reason ?? "no calls"}\n`);
        void vscode.commands.executeCommand("vscode.diff", left, right, `Calls: expected ↔ predicted (${name})`);
      }
    } catch (e) {
      this.post({ type: "notice", notice: { level: "error", message: (e as Error).message } });
    }
  }

  private dispose(): void {
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
    new ExplorerSession(panel, { title: path.basename(file), files: () => [file] }, this.context.extensionUri, this.calls, false);
  }

  /** The samples of a run: all steps, or one. */
  openRun(runDir: string, step?: number): void {
    const panel = vscode.window.createWebviewPanel(EXPLORER_PANEL, `Rollouts ${path.basename(runDir)}${step ? ` step ${step}` : ""}`, vscode.ViewColumn.Beside, webviewOptions(this.context.extensionUri));
    this.adoptRun(panel, runDir, step);
  }

  private adoptRun(panel: vscode.WebviewPanel, runDir: string, step?: number): void {
    // A step file is complete once run.json counts its step (the engine writes the step's rollouts first).
    const files = () => {
      const done = readRunInfo(runDir).step;
      return stepFiles(runDir).filter((f) => (step === undefined || f.step === step) && f.step <= done).map((f) => f.file);
    };
    new ExplorerSession(panel, { title: `${path.basename(runDir)}${step ? ` · step ${step}` : ""}`, files }, this.context.extensionUri, this.calls, step === undefined);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
