// Starts training engines, supervises them and re-attaches after a window reload.
//
// The engine runs detached with its output in <run>/engine.log, so closing or reloading the window does
// not end a run. The manager follows engine.log (JSON Lines events), shows the latest step in the status
// bar and every event in the "Rollout Studio" output channel, and remembers live runs in the workspace
// state to pick them up again after a reload.

import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import * as vscode from "vscode";

import type { StepEvent } from "../../contract/types";
import { launchDetached, parseEvent, pythonModuleCommand, type EngineEvent } from "../../runs/engine";
import { sendControl, type RunCommand } from "../../runs/control";
import { findPython } from "../../runs/python";
import { liveEnginePid, processAlive, readRunInfo } from "../../runs/runDir";

const LIVE_KEY = "rolloutStudio.liveRuns";

/** A reward version taking effect in a live run, or one the reward host refused. */
export type RewardEvent = { runDir: string; kind: "reloaded"; version: string; step: number } | { runDir: string; kind: "rejected"; message: string; step: number };
const POLL_MS = 1000;

interface LiveRun {
  runDir: string;
  pid: number;
  logOffset: number;
  lastStep?: StepEvent;
  ended: boolean;
  startedAt: number;
  /** The engine reported an error: its exit needs no second message. */
  reportedError?: boolean;
}

export class RunManager implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel("Rollout Studio");
  private readonly statusBar = vscode.window.createStatusBarItem("rolloutStudio.status", vscode.StatusBarAlignment.Left, 10);
  private readonly live = new Map<string, LiveRun>();
  private timer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires with a run directory whenever one of its live runs reports something. */
  readonly onDidChange = this.changed.event;
  private readonly rewardEvents = new vscode.EventEmitter<RewardEvent>();
  readonly onRewardEvent = this.rewardEvents.event;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.statusBar.name = "Rollout Studio";
    this.statusBar.command = "rolloutStudio.openRun";
    for (const runDir of context.workspaceState.get<string[]>(LIVE_KEY, [])) this.attach(runDir);
  }

  /** The folder where runs started from this workspace go. */
  runsFolder(): string | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? path.join(folder.uri.fsPath, ".rollout-studio", "runs") : undefined;
  }

  isLive(runDir: string): boolean {
    const run = this.live.get(path.resolve(runDir));
    return !!run && !run.ended;
  }

  /** What every engine process this window starts shares: the extension's folder, the Python, its environment. */
  private engineSetup(): { root: string; python: string; torch: string; env: NodeJS.ProcessEnv } {
    const settings = vscode.workspace.getConfiguration("rolloutStudio");
    const root = this.context.extensionPath;
    const { python, torch } = findPython({ configured: settings.get<string>("pythonPath") || undefined, root });
    const env = {
      ...process.env,
      // The reward host runs on VS Code's own Node, so `node` need not be installed.
      ROLLOUT_STUDIO_NODE: process.execPath,
      ELECTRON_RUN_AS_NODE: "1",
      ROLLOUT_STUDIO_CACHE: settings.get<string>("cacheDir") || this.context.globalStorageUri.fsPath,
    };
    return { root, python, torch, env };
  }

  /** The engine's Python, for one-off engine commands (the playground's export). */
  engineProcess(): { python: string; root: string; env: NodeJS.ProcessEnv } {
    const { python, root, env } = this.engineSetup();
    return { python, root, env };
  }

  /** Throws, saying why, where no engine may start: an untrusted (Restricted Mode) workspace. */
  assertMayStart(): void {
    if (!vscode.workspace.isTrusted) {
      throw new Error("This workspace is not trusted: Rollout Studio runs no engine and no reward code in it. Trust the workspace to start runs; viewing runs still works.");
    }
  }

  /** Starts an engine on a run configuration; resolves with the new run directory. */
  async start(config: string, options: { resumeDir?: string } = {}): Promise<string> {
    this.assertMayStart();
    const { root, python, torch, env } = this.engineSetup();
    let runDir = options.resumeDir;
    if (!runDir) {
      const folder = this.runsFolder();
      if (!folder) throw new Error("Open a folder first: runs are written to .rollout-studio/runs in the workspace.");
      const stamp = path.join(folder, new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15));
      // Two runs started within a second get -2, -3, …: the engine refuses a folder that holds a run.
      runDir = stamp;
      for (let n = 2; fs.existsSync(runDir); n++) runDir = `${stamp}-${n}`;
    }
    runDir = path.resolve(runDir);
    fs.mkdirSync(runDir, { recursive: true });
    const log = path.join(runDir, "engine.log");
    const offset = fs.existsSync(log) ? fs.statSync(log).size : 0;
    this.output.appendLine(`[start] ${config} → ${runDir} (Python ${python}, torch ${torch})`);
    const pid = launchDetached({ root, config, runDir, resume: !!options.resumeDir, python, env }, log);
    this.track({ runDir, pid, logOffset: offset, ended: false, startedAt: Date.now() });
    return runDir;
  }

  /**
   * Writes another trainer's run folder (TRL's completions, verl's dumps) as a new run in the workspace with
   * `rollout-studio import`, its samples scored again by `preset`; resolves with the new run directory.
   */
  async importRun(source: string, preset = "tool-n1"): Promise<string> {
    if (!vscode.workspace.isTrusted) throw new Error("This workspace is not trusted: importing scores samples with reward code. Trust the workspace to import runs.");
    const folder = this.runsFolder();
    if (!folder) throw new Error("Open a folder first: imported runs are written to .rollout-studio/runs in the workspace.");
    let runDir = path.join(folder, `${path.basename(source)}-imported`);
    for (let n = 2; fs.existsSync(runDir); n++) runDir = path.join(folder, `${path.basename(source)}-imported-${n}`);
    const { root, python, env } = this.engineSetup();
    const { command, args, env: moduleEnv } = pythonModuleCommand(root, "rollout_engine.integrations.foreign", ["import", source, "--out", runDir, "--preset", preset], { env, python });
    this.output.appendLine(`[import] ${source} → ${runDir}`);
    const stderr = await new Promise<string>((resolve, reject) => {
      const child = spawn(command, args, { env: moduleEnv, stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      child.stdout.on("data", (d: Buffer) => this.output.append(d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.on("error", reject);
      child.on("exit", (code) => (code === 0 ? resolve(err) : reject(new Error(err.trim().split("\n").pop() || `the import exited with code ${code}`))));
    });
    if (stderr) this.output.append(stderr);
    return runDir;
  }

  /** Follows a run whose engine is alive (started before a window reload, or from the CLI). */
  attach(runDir: string): boolean {
    const pid = liveEnginePid(runDir);
    if (pid === null) {
      this.forget(runDir);
      return false;
    }
    const log = path.join(runDir, "engine.log");
    this.track({ runDir: path.resolve(runDir), pid, logOffset: fs.existsSync(log) ? fs.statSync(log).size : 0, ended: false, startedAt: Date.now() });
    return true;
  }

  async control(runDir: string, command: RunCommand["command"]): Promise<void> {
    if (!vscode.workspace.isTrusted) throw new Error("This workspace is not trusted: run control is off.");
    const answer = await sendControl(runDir, { command });
    if (!answer.ok) throw new Error(`the engine refused "${command}": ${answer.error}`);
    this.output.appendLine(`[control] ${command} → ${path.basename(runDir)}`);
  }

  private track(run: LiveRun): void {
    this.live.set(run.runDir, run);
    const remembered = new Set(this.context.workspaceState.get<string[]>(LIVE_KEY, []));
    remembered.add(run.runDir);
    void this.context.workspaceState.update(LIVE_KEY, [...remembered]);
    this.timer ??= setInterval(() => this.poll(), POLL_MS);
    this.poll();
  }

  private forget(runDir: string): void {
    const remembered = this.context.workspaceState.get<string[]>(LIVE_KEY, []).filter((d) => path.resolve(d) !== path.resolve(runDir));
    void this.context.workspaceState.update(LIVE_KEY, remembered);
  }

  private poll(): void {
    for (const run of this.live.values()) {
      if (run.ended) continue;
      for (const event of this.readEvents(run)) this.onEvent(run, event);
      if (!processAlive(run.pid)) {
        for (const event of this.readEvents(run)) this.onEvent(run, event);
        run.ended = true;
        this.forget(run.runDir);
        this.onExit(run);
      }
      this.changed.fire(run.runDir);
    }
    this.updateStatusBar();
    if ([...this.live.values()].every((r) => r.ended) && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private readEvents(run: LiveRun): EngineEvent[] {
    const log = path.join(run.runDir, "engine.log");
    let size: number;
    try {
      size = fs.statSync(log).size;
    } catch {
      return [];
    }
    if (size <= run.logOffset) return [];
    const fd = fs.openSync(log, "r");
    const buffer = Buffer.alloc(size - run.logOffset);
    fs.readSync(fd, buffer, 0, buffer.length, run.logOffset);
    fs.closeSync(fd);
    const end = buffer.lastIndexOf(10);
    if (end < 0) return [];
    run.logOffset += end + 1;
    const events: EngineEvent[] = [];
    for (const line of buffer.subarray(0, end).toString("utf8").split("\n")) {
      const event = parseEvent(line);
      if (event) events.push(event);
      else if (line.trim()) this.output.appendLine(`  ${line}`);
    }
    return events;
  }

  private onEvent(run: LiveRun, event: EngineEvent): void {
    const name = path.basename(run.runDir);
    const { event: kind, ...fields } = event;
    this.output.appendLine(`[${name}] ${kind} ${JSON.stringify(fields)}`);
    switch (event.event) {
      case "step":
        run.lastStep = event;
        break;
      case "reward_reloaded":
        this.rewardEvents.fire({ runDir: run.runDir, kind: "reloaded", version: event.version, step: event.step });
        break;
      case "reward_reload_rejected":
        this.rewardEvents.fire({ runDir: run.runDir, kind: "rejected", message: event.message, step: event.step });
        void vscode.window.showWarningMessage(`Rollout Studio run ${name}: the new reward version was rejected; the previous one goes on scoring. ${event.message}`);
        break;
      case "error":
        run.reportedError = true;
        void vscode.window.showErrorMessage(`Rollout Studio run ${name}: ${event.message}`, "Show Log").then((choice) => {
          if (choice) this.output.show();
        });
        break;
      case "warning":
        void vscode.window.showWarningMessage(`Rollout Studio run ${name}: ${event.message}`);
        break;
      case "finished":
        void vscode.window.showInformationMessage(`Rollout Studio run ${name} finished after ${event.steps} steps.`);
        break;
    }
  }

  private onExit(run: LiveRun): void {
    let status: string;
    try {
      status = readRunInfo(run.runDir).status;
    } catch {
      status = "none";
    }
    if ((status === "running" || status === "none") && !run.reportedError) {
      const seconds = Math.round((Date.now() - run.startedAt) / 1000);
      void vscode.window
        .showErrorMessage(
          `Rollout Studio: the engine for ${path.basename(run.runDir)} exited after ${seconds} s without finishing the run. Its log says why.`,
          "Show Log",
        )
        .then((choice) => {
          if (choice) void vscode.window.showTextDocument(vscode.Uri.file(path.join(run.runDir, "engine.log")));
        });
    }
  }

  private updateStatusBar(): void {
    const active = [...this.live.values()].filter((r) => !r.ended);
    const run = active[active.length - 1];
    if (!run) {
      this.statusBar.hide();
      return;
    }
    const step = run.lastStep;
    this.statusBar.text = step
      ? `$(pulse) RL step ${step.step} · reward ${step.reward.toFixed(3)} · exact ${(step.exact * 100).toFixed(0)}%`
      : `$(loading~spin) RL run starting…`;
    this.statusBar.tooltip = `Rollout Studio: ${run.runDir}`;
    this.statusBar.show();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.statusBar.dispose();
    this.output.dispose();
    this.changed.dispose();
    this.rewardEvents.dispose();
  }
}
