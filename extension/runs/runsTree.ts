// The Runs tree in the Rollout Studio view container: the workspace's runs and any opened from
// elsewhere, each with its status, steps, checkpoints and reward versions.

import path from "node:path";
import * as vscode from "vscode";

import type { RunInfo } from "../../runs/records";
import { listRuns, liveEnginePid, readRunInfo } from "../../runs/runDir";
import type { RunManager } from "./runManager";

const OPENED_KEY = "rolloutStudio.openedRuns";

export type RunsNode =
  | { kind: "run"; runDir: string; info: RunInfo | null; error?: string }
  | { kind: "detail"; runDir: string; label: string; description?: string; icon: string; command?: vscode.Command; children?: RunsNode[] };

export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext, private readonly manager: RunManager) {
    this.subscriptions.push(manager.onDidChange(() => this.refresh()));
    const folder = manager.runsFolder();
    if (folder) {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(folder), "*/run.json"));
      watcher.onDidCreate(() => this.refresh());
      watcher.onDidChange(() => this.refresh());
      watcher.onDidDelete(() => this.refresh());
      this.subscriptions.push(watcher);
    }
  }

  /** Adds a run directory from outside the workspace's runs folder to the tree. */
  remember(runDir: string): void {
    const opened = new Set(this.context.workspaceState.get<string[]>(OPENED_KEY, []));
    opened.add(path.resolve(runDir));
    void this.context.workspaceState.update(OPENED_KEY, [...opened]);
    this.refresh();
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  runDirs(): string[] {
    const folder = this.manager.runsFolder();
    const inWorkspace = folder ? listRuns(folder) : [];
    const opened = this.context.workspaceState.get<string[]>(OPENED_KEY, []).filter((d) => !inWorkspace.includes(d));
    return [...inWorkspace, ...opened];
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (!node) {
      return this.runDirs().map((runDir) => {
        try {
          return { kind: "run", runDir, info: readRunInfo(runDir) };
        } catch (e) {
          return { kind: "run", runDir, info: null, error: (e as Error).message };
        }
      });
    }
    if (node.kind === "detail") return node.children ?? [];
    if (!node.info) return [];
    const info = node.info;
    const open = (step?: number): vscode.Command => ({ command: "rolloutStudio.openRollouts", title: "Open Rollouts", arguments: [node.runDir, step] });
    const children: RunsNode[] = [
      { kind: "detail", runDir: node.runDir, label: "Dashboard", icon: "graph-line", command: { command: "rolloutStudio.openRun", title: "Open Run", arguments: [node.runDir] } },
      { kind: "detail", runDir: node.runDir, label: "Rollouts", description: `${info.step} steps`, icon: "list-flat", command: open() },
      {
        kind: "detail",
        runDir: node.runDir,
        label: "Checkpoints",
        description: String(info.checkpoints?.length ?? 0),
        icon: "save",
        children: (info.checkpoints ?? []).map((c) => ({ kind: "detail" as const, runDir: node.runDir, label: `step ${c.step}`, description: c.path, icon: "save" })),
      },
      {
        kind: "detail",
        runDir: node.runDir,
        label: "Reward versions",
        description: String(info.reward_versions.length),
        icon: "versions",
        children: info.reward_versions.map((v) => ({
          kind: "detail" as const,
          runDir: node.runDir,
          label: v.slice(0, 12),
          description: info.reward_version_steps?.[v] !== undefined ? `from step ${info.reward_version_steps[v]}` : undefined,
          icon: "symbol-function",
          command: { command: "rolloutStudio.openRewardVersion", title: "Open Reward Version", arguments: [node.runDir, v] },
        })),
      },
    ];
    return children;
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === "detail") {
      const item = new vscode.TreeItem(node.label, node.children?.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.description = node.description;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      item.command = node.command;
      return item;
    }
    const item = new vscode.TreeItem(path.basename(node.runDir), vscode.TreeItemCollapsibleState.Collapsed);
    item.tooltip = node.runDir;
    item.resourceUri = vscode.Uri.file(node.runDir);
    if (!node.info) {
      item.description = "unreadable";
      item.tooltip = node.error;
      item.iconPath = new vscode.ThemeIcon("warning");
      item.contextValue = "run";
      return item;
    }
    const alive = liveEnginePid(node.runDir) !== null;
    const status = node.info.status === "running" && !alive ? "ended without finishing" : node.info.status;
    const max = node.info.config?.grpo?.max_steps;
    item.description = `${status} · step ${node.info.step}${max ? `/${max}` : ""}`;
    item.iconPath = new vscode.ThemeIcon(alive ? (node.info.status === "paused" ? "debug-pause" : "sync~spin") : status === "finished" ? "pass" : status === "stopped" ? "debug-stop" : "circle-outline");
    // Context values drive the menus: live runs get pause/resume/stop/checkpoint.
    item.contextValue = alive ? (node.info.status === "paused" ? "run.live.paused" : "run.live") : "run";
    item.command = { command: "rolloutStudio.openRun", title: "Open Run", arguments: [node.runDir] };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
