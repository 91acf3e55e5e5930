// Which run a command acts on: what the Runs tree passes (a node), a run directory, or, from the palette
// with nothing, the user's pick among the known runs.

import path from "node:path";
import * as vscode from "vscode";

import { readRunInfo } from "../../runs/runDir";
import type { RunManager } from "./runManager";
import type { RunsNode, RunsTreeProvider } from "./runsTree";

/** The runs the window knows: the engines it follows and the runs in the tree. */
export interface Runs {
  manager: RunManager;
  tree: RunsTreeProvider;
}

export function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === "string") return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg && typeof arg === "object" && typeof (arg as RunsNode).runDir === "string") return (arg as RunsNode).runDir;
  return undefined;
}

export async function pickRun(runs: Runs, liveOnly: boolean): Promise<string | undefined> {
  const dirs = runs.tree.runDirs().filter((d) => !liveOnly || runs.manager.isLive(d) || safeStatus(d) === "running" || safeStatus(d) === "paused");
  if (dirs.length === 0) {
    void vscode.window.showInformationMessage(liveOnly ? "Rollout Studio: no run is in progress." : "Rollout Studio: no runs yet. Start one with “Rollout Studio: Start RL Run”, or open a run directory.");
    return undefined;
  }
  if (dirs.length === 1) return dirs[0];
  const pick = await vscode.window.showQuickPick(
    dirs.map((d) => ({ label: path.basename(d), description: `${safeStatus(d)} · ${d}`, runDir: d })),
    { placeHolder: "Which run?" },
  );
  return pick?.runDir;
}

export function safeStatus(runDir: string): string {
  try {
    return readRunInfo(runDir).status;
  } catch {
    return "unreadable";
  }
}
