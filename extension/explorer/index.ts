// The rollout explorer: rollout files and a run's samples, each with its reward broken down, and the way
// from a sample back to the reward code that scored it.

import * as vscode from "vscode";

import { readRunInfo } from "../../runs/runDir";
import { registerCommand } from "../plumbing/commands";
import { pickRun, runDirOf, type Runs } from "../runs/pickRun";
import { Explorers } from "./explorer";

export function activateExplorer(context: vscode.ExtensionContext, runs: Runs): void {
  const explorers = new Explorers(context);
  context.subscriptions.push(
    explorers,
    registerCommand("rolloutStudio.openRollouts", async (arg, step, only) => {
      const runDir = runDirOf(arg) ?? (await pickRun(runs, false));
      if (!runDir) return;
      readRunInfo(runDir);
      // `only`: a monitor's flagged samples ("step/group/sample" keys) and what to call them.
      const subset = only && typeof only === "object" && (only as { keys?: unknown }).keys instanceof Set ? (only as { keys: Set<string>; label: string }) : undefined;
      explorers.openRun(runDir, typeof step === "number" ? step : undefined, subset);
    }),
  );
}
