// What every Rollout Studio command shares: its errors shown as a message, and the workspace folder
// where run configurations, schedules and runs go.

import * as vscode from "vscode";

/** Registers a command whose errors show as "Rollout Studio: <message>" instead of failing silently. */
export function registerCommand(id: string, run: (...args: unknown[]) => Promise<unknown> | unknown): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      await run(...args);
    } catch (e) {
      void vscode.window.showErrorMessage(`Rollout Studio: ${(e as Error).message}`);
    }
  });
}

export function workspaceFolder(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error("Open a folder first: Rollout Studio keeps run configurations and runs in the workspace.");
  return folder.uri;
}
