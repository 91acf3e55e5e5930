// Replay, push and roll back: another reward version on a run's stored rollouts, and switching a live
// run's reward.

import * as vscode from "vscode";

import { registerCommand } from "../plumbing/commands";
import { pickRun, runDirOf, type Runs } from "../runs/pickRun";
import { pushOrRollback, ReplayPanels } from "./replay";

export function activateReplay(context: vscode.ExtensionContext, runs: Runs): void {
  const replays = new ReplayPanels(context);
  context.subscriptions.push(
    registerCommand("rolloutStudio.replayReward", async (arg) => {
      if (!vscode.workspace.isTrusted) throw new Error("This workspace is not trusted: reward code does not run in it.");
      const runDir = runDirOf(arg) ?? (await pickRun(runs, false));
      if (runDir) await replays.replay(runDir);
    }),
    registerCommand("rolloutStudio.pushReward", async (arg) => {
      const runDir = runDirOf(arg) ?? (await pickRun(runs, true));
      if (runDir) await pushOrRollback(runDir, false);
    }),
    registerCommand("rolloutStudio.rollbackReward", async (arg) => {
      const runDir = runDirOf(arg) ?? (await pickRun(runs, true));
      if (runDir) await pushOrRollback(runDir, true);
    }),
  );
}
