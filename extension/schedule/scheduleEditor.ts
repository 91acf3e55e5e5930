// The inline reward-schedule editor: monaco in a webview, over the schedule file's TextDocument. The file
// is the single source of truth: edits in the webview become edits of the document (so a normal tab
// shows them), edits elsewhere come back to the webview, and VS Code's own save writes the file — which
// the running reward host hot-reloads. Type checking uses the schedule API's declarations.

import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";

import { cliPath } from "../plumbing/cli";
import type { TrajectoryRecord } from "../../runs/records";
import { rescoreWithSource } from "../../runs/rescore";
import { listRuns, readRollouts, readRunInfo, stepFiles } from "../../runs/runDir";
import { parseScheduleMessage, type HostToSchedule } from "../../webview/protocol";
import type { RewardEvent, RunManager } from "../runs/runManager";
import { webviewHtml, webviewOptions } from "../plumbing/webviewHtml";

export const SCHEDULE_EDITOR = "rolloutStudio.scheduleEditor";
const PREVIEW_SAMPLES = 64;

/** The schedule API's declarations, as files of a virtual "rollout-studio" package for monaco. */
function apiDeclarations(extensionPath: string): { path: string; content: string }[] {
  const root = path.join(extensionPath, "dist", "types", "reward");
  const out: { path: string; content: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".d.ts")) out.push({ path: `file:///node_modules/rollout-studio/${path.relative(root, full).replace(/\\/g, "/")}`, content: fs.readFileSync(full, "utf8") });
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out;
}

/** The newest run in the workspace whose reward is this schedule file. */
function runUsing(scheduleFile: string, runsFolder: string | undefined): string | undefined {
  if (!runsFolder) return undefined;
  return listRuns(runsFolder).find((dir) => {
    try {
      const schedule = readRunInfo(dir).config?.reward?.schedule;
      return typeof schedule === "string" && path.resolve(schedule) === path.resolve(scheduleFile);
    } catch {
      return false;
    }
  });
}

export class ScheduleEditorProvider implements vscode.CustomTextEditorProvider {
  constructor(private readonly context: vscode.ExtensionContext, private readonly manager: RunManager) {}

  resolveCustomTextEditor(document: vscode.TextDocument, panel: vscode.WebviewPanel): void {
    const post = (message: HostToSchedule) => void panel.webview.postMessage(message);
    panel.webview.options = { ...webviewOptions(this.context.extensionUri) };
    panel.webview.html = webviewHtml(panel.webview, this.context.extensionUri, "schedule", path.basename(document.fileName));
    let applying = false;
    const file = document.uri.fsPath;

    const subscriptions = [
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.toString() === document.uri.toString() && !applying && e.contentChanges.length) post({ type: "text", text: document.getText() });
      }),
      vscode.workspace.onDidSaveTextDocument((saved) => {
        if (saved.uri.toString() !== document.uri.toString()) return;
        const run = runUsing(file, this.manager.runsFolder());
        post({ type: "notice", notice: { level: "info", message: run && this.manager.isLive(run) ? "Saved: the running trainer reloads this schedule at its next step." : "Saved." } });
      }),
      this.manager.onRewardEvent((event: RewardEvent) => {
        const schedule = runUsing(file, this.manager.runsFolder());
        if (!schedule || path.resolve(schedule) !== path.resolve(event.runDir)) return;
        if (event.kind === "rejected") post({ type: "notice", notice: { level: "error", message: `The running trainer rejected this version and keeps the previous one: ${event.message}` } });
        else post({ type: "notice", notice: { level: "info", message: `Version ${event.version} is now scoring the run (${path.basename(event.runDir)}).` } });
      }),
      panel.webview.onDidReceiveMessage(async (raw: unknown) => {
        const message = parseScheduleMessage(raw);
        if (!message) return;
        if (message.type === "ready") {
          post({ type: "init", text: document.getText(), fileName: path.basename(file), declarations: apiDeclarations(this.context.extensionPath) });
        } else if (message.type === "edit") {
          if (message.text === document.getText()) return;
          const edit = new vscode.WorkspaceEdit();
          edit.replace(document.uri, new vscode.Range(0, 0, document.lineCount, 0), message.text);
          applying = true;
          try {
            await vscode.workspace.applyEdit(edit);
          } finally {
            applying = false;
          }
        } else if (message.type === "preview") {
          await this.preview(file, message.text, post);
        }
      }),
    ];
    panel.onDidDispose(() => subscriptions.forEach((s) => s.dispose()));
  }

  /** Scores the latest step of the newest run that uses this schedule with the editor's text. */
  private async preview(file: string, text: string, post: (m: HostToSchedule) => void): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      post({ type: "notice", notice: { level: "error", message: "This workspace is not trusted: reward code does not run in it." } });
      return;
    }
    const runDir = runUsing(file, this.manager.runsFolder());
    const last = runDir ? stepFiles(runDir).pop() : undefined;
    if (!runDir || !last) {
      post({ type: "notice", notice: { level: "warning", message: "No run in this workspace uses this schedule yet, so there are no samples to preview on. Start a run with it first." } });
      return;
    }
    const records: TrajectoryRecord[] = readRollouts(last.file).rows.slice(0, PREVIEW_SAMPLES);
    try {
      const template = readRunInfo(runDir).config?.data?.template;
      const rescored = await rescoreWithSource(records, text, file, { cli: cliPath(this.context.extensionPath), template });
      post({ type: "preview", runDir: path.basename(runDir), step: last.step, rows: rescored });
    } catch (e) {
      post({ type: "notice", notice: { level: "error", message: `Preview failed: ${(e as Error).message}` } });
    }
  }
}
