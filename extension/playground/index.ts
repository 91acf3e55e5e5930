// The playground: a run's checkpoints sampled inside VS Code (onnxruntime-node in the extension host),
// each answer scored and explained by the reward being edited (docs/playground.md).

import * as vscode from "vscode";

import type { ToolCall } from "../../reward/parse";
import type { Message } from "../../runs/prompts";
import { registerCommand } from "../plumbing/commands";
import { pickRun, runDirOf, type Runs } from "../runs/pickRun";
import { Playground } from "./playground";

export function activatePlayground(context: vscode.ExtensionContext, runs: Runs): void {
  const playground = new Playground(context, runs);
  context.subscriptions.push(
    playground,
    // From the palette or the Runs tree: a run. From the explorer ("Resample this prompt"): a run and a sample's prompt and step.
    registerCommand("rolloutStudio.openPlayground", async (arg, sample) => {
      const runDir = runDirOf(arg) ?? (await pickRun(runs, false));
      if (!runDir) return;
      const s = (sample && typeof sample === "object" ? sample : {}) as { step?: number; tools?: unknown[]; messages?: Message[]; groundTruth?: ToolCall[]; origin?: string };
      playground.open({ runDir, ...s });
    }),
  );
}
