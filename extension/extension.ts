// Rollout Studio's activation: one folder per feature, each registering its own commands and views.

import type * as vscode from "vscode";

import { activateDashboard } from "./dashboard";
import { activateExplorer } from "./explorer";
import { activatePlayground } from "./playground";
import { activateReplay } from "./replay";
import { activateRewardTests } from "./rewardTests";
import { activateRuns } from "./runs";
import { RunManager } from "./runs/runManager";
import { RunsTreeProvider } from "./runs/runsTree";
import { activateSchedule } from "./schedule";

export function activate(context: vscode.ExtensionContext): void {
  // Shared by the features: the engines this window follows, and the runs it knows.
  const manager = new RunManager(context);
  const tree = new RunsTreeProvider(context, manager);
  context.subscriptions.push(manager, tree);
  const runs = { manager, tree };

  const dashboards = activateDashboard(context, runs);
  activateRuns(context, runs, dashboards);
  activateExplorer(context, runs);
  activateSchedule(context, runs);
  activateReplay(context, runs);
  activatePlayground(context, runs);
  activateRewardTests(context);
}

export function deactivate(): void {
  // Engines run detached and keep going; the next window re-attaches to them.
}
