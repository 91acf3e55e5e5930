// Run configurations for Start RL Run: the ones in the workspace, or a new one: the bundled demo, or
// one written from the user's answers (dataset, prompt template, policy, reward).

import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";

import { PRESETS } from "../../reward/presets";
import { workspaceFolder } from "../plumbing/commands";
import { scheduleTemplate } from "../schedule/template";

/** Run configurations in the workspace: TOML files with a [grpo] or [data] table. */
export async function findRunConfigs(): Promise<vscode.Uri[]> {
  const files = await vscode.workspace.findFiles("**/*.toml", "**/{node_modules,.rollout-studio,.git}/**", 200);
  return files.filter((f) => /^\s*\[(grpo|data|policy)\]/m.test(fs.readFileSync(f.fsPath, "utf8")));
}

/** Copies the bundled demo (run config, schedule, dataset) into the workspace and returns its run.toml. */
function copyDemo(extensionPath: string, into: string): string {
  const target = path.join(into, "rollout-studio-demo");
  fs.mkdirSync(path.join(target, "data"), { recursive: true });
  const demo = path.join(extensionPath, "demo");
  for (const name of ["run.toml", "reward-schedule.ts", "tsconfig.json"]) {
    if (!fs.existsSync(path.join(target, name))) fs.copyFileSync(path.join(demo, name), path.join(target, name));
  }
  for (const name of fs.readdirSync(path.join(demo, "data"))) {
    if (!fs.existsSync(path.join(target, "data", name))) fs.copyFileSync(path.join(demo, "data", name), path.join(target, "data", name));
  }
  // Type declarations for editors: the schedule API shipped with the extension.
  const tsconfig = path.join(target, "tsconfig.json");
  const types = path.join(extensionPath, "dist", "types", "reward", "index.d.ts");
  fs.writeFileSync(tsconfig, fs.readFileSync(tsconfig, "utf8").replace("../dist/types/reward/index.d.ts", types.replace(/\\/g, "/")));
  return path.join(target, "run.toml");
}

/** Asks for a new run configuration and writes it; resolves with its path, or undefined when the user gives up. */
export async function createRunConfig(extensionPath: string): Promise<string | undefined> {
  const folder = workspaceFolder().fsPath;
  const presets = Object.keys(PRESETS);
  const choice = await vscode.window.showQuickPick(
    [
      { label: "Demo run", description: "the bundled demo: tiny policy from its base, demo dataset, the demo's schedule (10 minutes on CPU)", id: "demo" },
      { label: "New run configuration…", description: "choose dataset, prompt template, policy and reward", id: "new" },
    ],
    { placeHolder: "Create a run configuration" },
  );
  if (!choice) return undefined;
  if (choice.id === "demo") return copyDemo(extensionPath, folder);
  const data = await vscode.window.showOpenDialog({ title: "Training data (canonical JSONL, docs/dataset-format.md)", filters: { "JSON Lines": ["jsonl"] }, canSelectMany: false, defaultUri: vscode.Uri.file(folder) });
  if (!data?.[0]) return undefined;
  // Each preset's paper has a prompt template of the same name (engine/rollout_engine/templates.py).
  const template = await vscode.window.showQuickPick(presets, { placeHolder: "Prompt template" });
  if (!template) return undefined;
  const backend = await vscode.window.showQuickPick(
    [
      { label: "tiny", description: "the embedded CPU policy, from its base (built on first use)" },
      { label: "hf", description: "a transformers model from a local folder (needs transformers; a GPU for real sizes)" },
    ],
    { placeHolder: "Policy" },
  );
  if (!backend) return undefined;
  let model = "";
  if (backend.label === "hf") {
    const folderPick = await vscode.window.showOpenDialog({ title: "The model's folder (save_pretrained output)", canSelectFolders: true, canSelectFiles: false });
    if (!folderPick?.[0]) return undefined;
    model = `model = ${JSON.stringify(folderPick[0].fsPath)}\n`;
  }
  const reward = await vscode.window.showQuickPick(
    [...presets.map((p) => ({ label: p, description: "preset", schedule: false, preset: p })), ...presets.map((p) => ({ label: `${p} schedule file`, description: "a new schedule file to edit, from the preset", schedule: true, preset: p }))],
    { placeHolder: "Reward" },
  );
  if (!reward) return undefined;
  let rewardTable = `preset = "${reward.label}"\n`;
  if (reward.schedule) {
    const file = path.join(folder, "reward-schedule.ts");
    if (!fs.existsSync(file)) fs.writeFileSync(file, scheduleTemplate(reward.preset));
    rewardTable = `schedule = "reward-schedule.ts"\n`;
  }
  const config = path.join(folder, "run.toml");
  if (fs.existsSync(config)) throw new Error(`${config} exists already: pick it in “Start RL Run”, or move it away to create a new one.`);
  const dataPath = path.relative(folder, data[0].fsPath).replace(/\\/g, "/");
  fs.writeFileSync(
    config,
    `# A Rollout Studio run configuration (every key: docs/run-config.md in the extension).
[data]
train = "${dataPath}"
template = "${template}"

[policy]
backend = "${backend.label}"
${model}
[reward]
${rewardTable}
[grpo]
num_generations = 8
prompts_per_step = 16
learning_rate = 0.0005
max_steps = 200
`,
  );
  return config;
}
