// The dashboard: a run's live curves, and Open Run.

import path from "node:path";
import * as vscode from "vscode";

import fs from "node:fs";

import { foreignRunKind } from "../../runs/foreign";
import { registerCommand } from "../plumbing/commands";
import { runDirOf, safeStatus, type Runs } from "../runs/pickRun";
import { Dashboards } from "./dashboard";

/** Returns the dashboards, which Start RL Run opens on the new run. */
export function activateDashboard(context: vscode.ExtensionContext, { manager, tree }: Runs): Dashboards {
  const dashboards = new Dashboards(context, manager);
  context.subscriptions.push(
    dashboards,
    registerCommand("rolloutStudio.openRun", async (arg) => {
      let runDir = runDirOf(arg);
      if (!runDir) {
        const known = tree.runDirs().map((d) => ({ label: path.basename(d), description: `${safeStatus(d)} · ${d}`, runDir: d }));
        const pick = known.length
          ? await vscode.window.showQuickPick([...known, { label: "$(folder-opened) Browse for a run directory…", description: "a run started from the CLI, or elsewhere", runDir: "" }], { placeHolder: "Open which run?" })
          : { runDir: "" };
        if (!pick) return;
        runDir = pick.runDir;
        if (!runDir) {
          const picked = await vscode.window.showOpenDialog({ title: "Open a run directory (a folder with run.json)", canSelectFolders: true, canSelectFiles: false });
          runDir = picked?.[0]?.fsPath;
          if (!runDir) return;
        }
      }
      if (!fs.existsSync(path.join(runDir, "run.json"))) {
        // Another trainer's run folder: offer to import it (docs/importing.md).
        const kind = foreignRunKind(runDir);
        if (!kind) {
          void vscode.window.showErrorMessage(`Rollout Studio: ${runDir} is not a run directory (no run.json), nor a TRL output folder or verl dump folder to import.`);
          return;
        }
        const trainer = kind === "trl" ? "a TRL run (its completions tables)" : "a verl run (its rollout dumps)";
        const answer = await vscode.window.showInformationMessage(
          `${path.basename(runDir)} is ${trainer}. Import it as a Rollout Studio run? Each sample is scored again by the tool-n1 preset; the trainer's own reward is kept beside it.`,
          "Import",
        );
        if (answer !== "Import") return;
        const source = runDir;
        try {
          runDir = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Importing ${path.basename(source)}…` }, () => manager.importRun(source));
        } catch (err) {
          void vscode.window.showErrorMessage(`Rollout Studio: could not import ${source}: ${(err as Error).message}`);
          return;
        }
      }
      dashboards.open(runDir);
      tree.remember(runDir);
      manager.attach(runDir); // a live engine started elsewhere (the CLI): follow it too
    }),
  );
  return dashboards;
}
