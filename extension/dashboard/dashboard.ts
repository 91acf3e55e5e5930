// The dashboard panel: live curves of a run. One panel per run directory; it survives being hidden
// (the webview keeps its state) and a window reload (a serializer reopens it on the same run).

import path from "node:path";
import * as vscode from "vscode";

import type { StepMonitors } from "../../runs/monitors";
import type { StepMetrics } from "../../runs/records";
import { JsonlTail, RunDirError, readEvals, readJsonl, readRunInfo } from "../../runs/runDir";
import { metricsProblem } from "../../runs/records";
import { parseDashboardMessage, type HostToDashboard, type MonitorCounts } from "../../webview/protocol";
import { runCli } from "../plumbing/cli";
import type { RunManager } from "../runs/runManager";
import { webviewHtml, webviewOptions } from "../plumbing/webviewHtml";

export const DASHBOARD_VIEW = "rolloutStudio.dashboard";

export class Dashboards implements vscode.Disposable {
  private readonly panels = new Map<string, DashboardPanel>();

  constructor(private readonly context: vscode.ExtensionContext, private readonly manager: RunManager) {
    context.subscriptions.push(
      vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const runDir = (state as { runDir?: unknown } | undefined)?.runDir;
          if (typeof runDir !== "string") {
            panel.dispose();
            return;
          }
          this.adopt(panel, runDir);
        },
      }),
    );
  }

  open(runDir: string): void {
    runDir = path.resolve(runDir);
    // A clear error for a folder that is not a run, before any panel opens; a run that is starting has
    // no run.json yet.
    if (!this.manager.isLive(runDir)) readRunInfo(runDir);
    const existing = this.panels.get(runDir);
    if (existing) {
      existing.render(); // a panel restored after a reload can be blank: draw it again
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW, `Run ${path.basename(runDir)}`, vscode.ViewColumn.Active, {
      ...webviewOptions(this.context.extensionUri),
      retainContextWhenHidden: false,
    });
    this.adopt(panel, runDir);
  }

  private adopt(panel: vscode.WebviewPanel, runDir: string): void {
    panel.webview.options = webviewOptions(this.context.extensionUri);
    const dashboard = new DashboardPanel(panel, runDir, this.context, this.manager);
    this.panels.set(runDir, dashboard);
    panel.onDidDispose(() => this.panels.delete(runDir));
  }

  dispose(): void {
    for (const d of this.panels.values()) d.panel.dispose();
  }
}

class DashboardPanel {
  private metrics: JsonlTail<StepMetrics>;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Status, step and version count last sent: the run message goes again when one changes. */
  private lastSignature = "";
  private starting = false;
  /** Monitors: the last step evaluated, the samples each flagged per step, their titles. */
  private monitorsUpTo = 0;
  private monitorsRunning = false;
  private monitorsFailed = false;
  private readonly monitorFlags = new Map<string, [number, [number, number][]][]>();
  private readonly monitorTitles = new Map<string, string>();

  constructor(readonly panel: vscode.WebviewPanel, readonly runDir: string, private readonly context: vscode.ExtensionContext, private readonly manager: RunManager) {
    this.metrics = new JsonlTail<StepMetrics>(path.join(runDir, "metrics.jsonl"), metricsProblem);
    this.render();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      manager.onDidChange((dir) => {
        if (dir === runDir) this.update(false);
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    // Runs started elsewhere (the CLI) change without the manager knowing: poll while the run is live.
    this.timer = setInterval(() => this.update(false), 1000);
  }

  /** Loads the page; it then asks for everything ("ready"). */
  render(): void {
    this.panel.webview.html = webviewHtml(this.panel.webview, this.context.extensionUri, "dashboard", `Run ${path.basename(this.runDir)}`);
  }

  private post(message: HostToDashboard): void {
    void this.panel.webview.postMessage(message);
  }

  private onMessage(raw: unknown): void {
    const message = parseDashboardMessage(raw);
    if (!message) return;
    if (message.type === "ready") {
      // A new or restored webview: send everything from the start.
      this.metrics = new JsonlTail<StepMetrics>(path.join(this.runDir, "metrics.jsonl"), metricsProblem);
      this.lastSignature = "";
      this.monitorFlags.clear();
      this.update(true);
    } else if (message.type === "openFailures") {
      const keys = new Set(this.failedSamples(message.step).map(([g, s]) => `${message.step}/${g}/${s}`));
      void vscode.commands.executeCommand("rolloutStudio.openRollouts", this.runDir, message.step, { keys, label: "reward failures" });
    } else if (message.type === "openMonitor") {
      const keys = new Set<string>();
      for (const [step, flagged] of this.monitorFlags.get(message.id) ?? []) {
        if (message.step === undefined || step === message.step) for (const [g, s] of flagged) keys.add(`${step}/${g}/${s}`);
      }
      void vscode.commands.executeCommand("rolloutStudio.openRollouts", this.runDir, message.step, { keys, label: `monitor: ${this.monitorTitles.get(message.id) ?? message.id}` });
    } else if (message.type === "openRollouts") {
      void vscode.commands.executeCommand("rolloutStudio.openRollouts", this.runDir, message.step);
    } else if (message.type === "editSchedule") {
      const schedule = readRunInfo(this.runDir).config?.reward?.schedule;
      if (typeof schedule === "string") void vscode.commands.executeCommand("rolloutStudio.editScheduleInline", schedule, "beside");
    } else if (message.type === "control") {
      this.manager.control(this.runDir, message.command).catch((e: Error) => void vscode.window.showErrorMessage(`Rollout Studio: ${e.message}`));
    }
  }

  private update(reset: boolean): void {
    if (!this.panel.visible && !reset) return;
    let info;
    try {
      info = readRunInfo(this.runDir);
    } catch (e) {
      if (this.manager.isLive(this.runDir)) {
        if (reset || !this.starting) this.post({ type: "starting", runDir: this.runDir });
        this.starting = true;
      } else if (reset || this.starting) {
        this.post({ type: "notice", notice: { level: "error", message: e instanceof RunDirError ? e.message : String(e) } });
        this.starting = false;
      }
      return;
    }
    this.starting = false;
    const { rows, bad } = this.metrics.poll();
    const signature = `${info.status}/${info.step}/${info.reward_versions.length}`;
    if (reset || signature !== this.lastSignature) {
      this.lastSignature = signature;
      this.post({ type: "run", run: info, runDir: this.runDir, live: this.manager.isLive(this.runDir) || info.status === "running" || info.status === "paused" });
      this.post({ type: "evals", rows: readEvals(this.runDir) });
    }
    if (rows.length || reset) this.post({ type: "metrics", rows, reset });
    const failing = rows.filter((m) => m.reward_failures > 0).map((m) => m.step);
    if (failing.length || reset) this.post({ type: "failures", rows: failing.flatMap((step) => this.failureMessages(step)), reset });
    if (reset) this.monitorsUpTo = 0;
    if (info.step > this.monitorsUpTo) this.runMonitors(reset);
    for (const b of bad) this.post({ type: "notice", notice: { level: "warning", message: `${path.basename(b.file)} line ${b.line}: ${b.error} (skipped)` } });
  }

  /** The samples of a step whose reward failed, with their messages (from the step's compact index). */
  private failedSamples(step: number): [number, number, string][] {
    const index = path.join(this.runDir, "index", `step-${String(step).padStart(6, "0")}.jsonl`);
    const rows = readJsonl<{ group: number; sample: number; reward: number | null; failure: string | null }>(index, () => null).rows;
    return rows.filter((r) => r.reward === null).map((r) => [r.group, r.sample, r.failure ?? "reward failure"]);
  }

  private failureMessages(step: number): { step: number; message: string; count: number }[] {
    const counts = new Map<string, number>();
    for (const [, , message] of this.failedSamples(step)) counts.set(message, (counts.get(message) ?? 0) + 1);
    return [...counts].map(([message, count]) => ({ step, message, count }));
  }

  /** Evaluates the monitors on the steps not evaluated yet, in `rollout-studio monitors` (user predicates run there, not here). */
  private runMonitors(reset: boolean): void {
    if (this.monitorsRunning || !vscode.workspace.isTrusted) return;
    this.monitorsRunning = true;
    const from = this.monitorsUpTo + 1;
    void (async () => {
      const files = (await vscode.workspace.findFiles("**/*.monitors.ts", "**/{node_modules,.rollout-studio,.git}/**", 20)).map((f) => f.fsPath);
      const args = ["monitors", "--run", this.runDir, "--from-step", String(from), "--format", "json", ...files.flatMap((f) => ["--monitors", f])];
      void runCli(this.context.extensionPath, args, { timeoutMs: 120_000 }).then(({ stdout, stderr, error }) => {
        this.monitorsRunning = false;
        // Exit 1 with results: some rollout lines did not read (named in the results); the rest were evaluated.
        if (error && !stdout.trim()) {
          if (!this.monitorsFailed) this.post({ type: "notice", notice: { level: "warning", message: `Monitors could not run: ${stderr.trim().split("\n").slice(-2).join(" ") || error.message}` } });
          this.monitorsFailed = true;
          return;
        }
        this.monitorsFailed = false;
        const steps: MonitorCounts[] = [];
        for (const line of stdout.split("\n").filter(Boolean)) {
          const result = JSON.parse(line) as StepMonitors;
          this.monitorsUpTo = Math.max(this.monitorsUpTo, result.step);
          for (const r of result.results) {
            this.monitorTitles.set(r.id, r.title);
            const list = this.monitorFlags.get(r.id) ?? [];
            list.push([result.step, r.flagged]);
            this.monitorFlags.set(r.id, list);
          }
          for (const bad of result.unreadable ?? []) this.post({ type: "notice", notice: { level: "warning", message: `Monitors: ${bad.file} line ${bad.line} is not a readable rollout record (${bad.error}); it was not evaluated.` } });
          steps.push({ step: result.step, samples: result.samples, monitors: result.results.map((r) => ({ id: r.id, title: r.title, count: r.error ? null : r.flagged.length, ...(r.error ? { error: r.error } : {}) })) });
        }
        if (steps.length || reset) this.post({ type: "monitors", steps, reset: reset || from === 1 });
      });
    })();
  }

  private dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
