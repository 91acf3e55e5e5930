// Rollout Studio's activation: one module per contribution, wired here.

import * as vscode from "vscode";

import { registerCommands } from "./commands";
import { ContractCheck } from "./contractCheck";
import { Dashboards } from "./dashboard";
import { Explorers } from "./explorer";
import { RunManager } from "./runManager";
import { RewardTests } from "./rewardTests";
import { RunsTreeProvider } from "./runsTree";
import { SCHEDULE_EDITOR, ScheduleEditorProvider } from "./scheduleEditor";

export function activate(context: vscode.ExtensionContext): void {
  const manager = new RunManager(context);
  const tree = new RunsTreeProvider(context, manager);
  const dashboards = new Dashboards(context, manager);
  const explorers = new Explorers(context);
  context.subscriptions.push(
    manager,
    tree,
    dashboards,
    explorers,
    vscode.window.createTreeView("rolloutStudio.runs", { treeDataProvider: tree, showCollapseAll: true }),
    ...registerCommands({ context, manager, tree, dashboards, explorers }),
    new RewardTests(context.extensionPath),
    new ContractCheck(context.extensionPath, () => tree.runDirs()),
    vscode.window.registerCustomEditorProvider(SCHEDULE_EDITOR, new ScheduleEditorProvider(context, manager), { webviewOptions: { retainContextWhenHidden: true } }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => tree.refresh()),
  );
}

export function deactivate(): void {
  // Engines run detached and keep going; the next window re-attaches to them.
}
