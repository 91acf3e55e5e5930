// Reward schedules: the inline editor, New Reward Schedule, and the contract check on save.

import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";

import { PRESETS } from "../../reward/presets";
import { registerCommand, workspaceFolder } from "../plumbing/commands";
import type { Runs } from "../runs/pickRun";
import { ContractCheck } from "./contractCheck";
import { SCHEDULE_EDITOR, ScheduleEditorProvider } from "./scheduleEditor";
import { scheduleTemplate, writeScheduleTsconfig } from "./template";

export function activateSchedule(context: vscode.ExtensionContext, { manager, tree }: Runs): void {
  context.subscriptions.push(
    registerCommand("rolloutStudio.editScheduleInline", async (arg, where) => {
      let file = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === "string" ? arg : vscode.window.activeTextEditor?.document.uri.fsPath;
      if (!file || !file.endsWith(".ts")) {
        const schedules = await vscode.workspace.findFiles("**/*schedule*.ts", "**/node_modules/**", 50);
        const pick = await vscode.window.showQuickPick(schedules.map((s) => ({ label: vscode.workspace.asRelativePath(s), path: s.fsPath })), { placeHolder: "Edit which reward schedule?" });
        file = pick?.path;
        if (!file) return;
      }
      // From the dashboard: beside it, so the curves stay in sight while the schedule changes.
      await vscode.commands.executeCommand("vscode.openWith", vscode.Uri.file(file), SCHEDULE_EDITOR, where === "beside" ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active);
    }),
    registerCommand("rolloutStudio.newRewardSchedule", async () => {
      const preset = await vscode.window.showQuickPick(Object.keys(PRESETS), { placeHolder: "Start the schedule from which preset?" });
      if (!preset) return;
      const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(workspaceFolder(), "reward-schedule.ts"), filters: { TypeScript: ["ts"] } });
      if (!target) return;
      fs.writeFileSync(target.fsPath, scheduleTemplate(preset));
      writeScheduleTsconfig(context.extensionPath, path.dirname(target.fsPath));
      await vscode.window.showTextDocument(target);
    }),
    new ContractCheck(context.extensionPath, () => tree.runDirs()),
    vscode.window.registerCustomEditorProvider(SCHEDULE_EDITOR, new ScheduleEditorProvider(context, manager), { webviewOptions: { retainContextWhenHidden: true } }),
  );
}
