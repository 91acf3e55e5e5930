// Trying a reward outside a run: reward cases in the Test Explorer, and Score File with Reward.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";

import { PRESETS } from "../../reward/presets";
import { cliEnv, cliPath } from "../plumbing/cli";
import { registerCommand } from "../plumbing/commands";
import { RewardTests } from "./rewardTests";

export function activateRewardTests(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    new RewardTests(context.extensionPath),
    registerCommand("rolloutStudio.scoreFile", async (arg) => {
      if (!vscode.workspace.isTrusted) throw new Error("This workspace is not trusted: reward code does not run in it.");
      let file = arg instanceof vscode.Uri ? arg.fsPath : undefined;
      if (!file) {
        const picked = await vscode.window.showOpenDialog({ title: 'Samples to score (JSON Lines: {"completion", "ground_truth"})', filters: { "JSON Lines": ["jsonl"] } });
        file = picked?.[0]?.fsPath;
        if (!file) return;
      }
      const schedules = await vscode.workspace.findFiles("**/*schedule*.ts", "**/node_modules/**", 50);
      const reward = await vscode.window.showQuickPick(
        [...Object.keys(PRESETS).map((p) => ({ label: p, description: "preset", args: ["--preset", p] })), ...schedules.map((s) => ({ label: vscode.workspace.asRelativePath(s), description: "schedule file", args: ["--schedule", s.fsPath] }))],
        { placeHolder: "Score with which reward?" },
      );
      if (!reward) return;
      const out = file.replace(/\.jsonl$/, "") + `.scored.jsonl`;
      const code = await scoreWithCli(context.extensionPath, file, out, reward.args);
      await vscode.window.showTextDocument(vscode.Uri.file(out));
      if (code !== 0) void vscode.window.showWarningMessage(`Rollout Studio: some lines of ${path.basename(file)} could not be scored (bad input or a reward failure); each is marked in ${path.basename(out)}.`);
    }),
  );
}

/** Runs `rollout-studio score ARGS --explain` from INPUT to OUTPUT; resolves with its exit code. */
function scoreWithCli(extensionPath: string, input: string, output: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath(extensionPath), "score", ...args, "--explain"], {
      env: cliEnv(),
      stdio: [fs.openSync(input, "r"), fs.openSync(output, "w"), "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 2 ? reject(new Error(stderr.trim() || "the scoring CLI rejected its arguments")) : resolve(code ?? 1)));
  });
}
