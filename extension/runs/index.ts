// Runs: the Runs tree, Start RL Run (with the run-configuration wizard), pause, resume, stop and
// checkpoint, and the reward versions a run recorded.

import * as vscode from "vscode";

import { readRewardVersion } from "../../runs/runDir";
import type { Dashboards } from "../dashboard/dashboard";
import { registerCommand } from "../plumbing/commands";
import { pickRun, runDirOf, type Runs } from "./pickRun";
import { createRunConfig, findRunConfigs } from "./runConfigWizard";

export function activateRuns(context: vscode.ExtensionContext, runs: Runs, dashboards: Dashboards): void {
  const { manager, tree } = runs;
  const control = (command: "pause" | "resume" | "stop" | "checkpoint") => async (arg: unknown) => {
    const runDir = runDirOf(arg) ?? (await pickRun(runs, true));
    if (!runDir) return;
    await manager.control(runDir, command);
    tree.refresh();
  };
  context.subscriptions.push(
    vscode.window.createTreeView("rolloutStudio.runs", { treeDataProvider: tree, showCollapseAll: true }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => tree.refresh()),
    registerCommand("rolloutStudio.startRun", async (arg) => {
      let config = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === "string" ? arg : undefined;
      // Refused before any picker: in Restricted Mode there is no configuration worth choosing.
      manager.assertMayStart();
      if (!config) {
        const configs = await findRunConfigs();
        const pick = await vscode.window.showQuickPick(
          [
            ...configs.map((c) => ({ label: vscode.workspace.asRelativePath(c), description: "run configuration", path: c.fsPath })),
            { label: "$(add) Create a run configuration…", description: "the demo, or from a template", path: "" },
          ],
          { placeHolder: "Start an RL run from which configuration?" },
        );
        if (!pick) return;
        config = pick.path || (await createRunConfig(context.extensionPath));
        if (!config) return;
      }
      const runDir = await manager.start(config);
      tree.refresh();
      dashboards.open(runDir);
    }),
    registerCommand("rolloutStudio.pauseRun", control("pause")),
    registerCommand("rolloutStudio.resumeRun", control("resume")),
    registerCommand("rolloutStudio.stopRun", control("stop")),
    registerCommand("rolloutStudio.checkpointNow", control("checkpoint")),
    registerCommand("rolloutStudio.openRewardVersion", async (runDir, version) => {
      const entry = readRewardVersion(String(runDir), String(version));
      if (!entry) throw new Error(`reward version ${String(version)} is not stored in ${String(runDir)}/rewards`);
      const text = entry.source ?? JSON.stringify(entry, null, 2);
      const doc = await vscode.workspace.openTextDocument({ content: text, language: entry.source ? "typescript" : "json" });
      await vscode.window.showTextDocument(doc, { preview: true });
    }),
  );
}
