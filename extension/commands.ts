// The palette commands (category "Rollout Studio"). Each takes what the Runs tree passes (a node) or a
// run directory, and asks with a picker when called from the palette with nothing.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";

import { cliEnv, cliPath } from "./cli";
import { readRewardVersion, readRunInfo } from "../runs/runDir";
import type { Dashboards } from "./dashboard";
import type { Explorers } from "./explorer";
import type { RunManager } from "./runManager";
import type { RunsNode, RunsTreeProvider } from "./runsTree";
import { SCHEDULE_EDITOR } from "./scheduleEditor";
import { pushOrRollback, ReplayPanels } from "./replay";

const PRESETS = ["tool-zero", "tool-n1", "toolrl"] as const;

interface Parts {
  context: vscode.ExtensionContext;
  manager: RunManager;
  tree: RunsTreeProvider;
  dashboards: Dashboards;
  explorers: Explorers;
}

function runDirOf(arg: unknown): string | undefined {
  if (typeof arg === "string") return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg && typeof arg === "object" && typeof (arg as RunsNode).runDir === "string") return (arg as RunsNode).runDir;
  return undefined;
}

function workspaceFolder(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error("Open a folder first: Rollout Studio keeps run configurations and runs in the workspace.");
  return folder.uri;
}

async function pickRun(parts: Parts, liveOnly: boolean): Promise<string | undefined> {
  const runs = parts.tree.runDirs().filter((d) => !liveOnly || parts.manager.isLive(d) || safeStatus(d) === "running" || safeStatus(d) === "paused");
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(liveOnly ? "Rollout Studio: no run is in progress." : "Rollout Studio: no runs yet. Start one with “Rollout Studio: Start RL Run”, or open a run directory.");
    return undefined;
  }
  if (runs.length === 1) return runs[0];
  const pick = await vscode.window.showQuickPick(
    runs.map((d) => ({ label: path.basename(d), description: `${safeStatus(d)} · ${d}`, runDir: d })),
    { placeHolder: "Which run?" },
  );
  return pick?.runDir;
}

function safeStatus(runDir: string): string {
  try {
    return readRunInfo(runDir).status;
  } catch {
    return "unreadable";
  }
}

/** Run configurations in the workspace: TOML files with a [grpo] or [data] table. */
async function findRunConfigs(): Promise<vscode.Uri[]> {
  const files = await vscode.workspace.findFiles("**/*.toml", "**/{node_modules,.rollout-studio,.git}/**", 200);
  return files.filter((f) => /^\s*\[(grpo|data|policy)\]/m.test(fs.readFileSync(f.fsPath, "utf8")));
}

function scheduleTemplate(preset: string): string {
  const factory = { "tool-zero": "toolZero", "tool-n1": "toolN1", toolrl: "toolRL" }[preset] ?? "toolZero";
  return `// A reward schedule for Rollout Studio, starting from the ${preset} preset. Saving this file hot-reloads it
// into a running trainer; every rollout records the version (hash) that scored it.
// Components are named reward functions with weights (constants or functions of the training time).
import { defineSchedule, ${factory} } from "rollout-studio";

const base = ${factory}();

export default defineSchedule({
  ...base,
  name: "my ${preset} schedule",
  components: {
    ...base.components,
    // Add or replace components here, e.g.
    // brevity: { range: [0, 0.1], weight: 1, score: ({ sample }) => ({ value: sample.completion.length < 400 ? 0.1 : 0, why: "short answers" }) },
  },
});
`;
}

/**
 * A tsconfig.json beside a new schedule (unless the folder has one), so that editors resolve
 * "rollout-studio" to the API's declarations shipped with the extension.
 */
function writeScheduleTsconfig(extensionPath: string, folder: string): void {
  const file = path.join(folder, "tsconfig.json");
  if (fs.existsSync(file)) return;
  const types = path.join(extensionPath, "dist", "types", "reward", "index.d.ts").replace(/\\/g, "/");
  const config = {
    "//": "Written by Rollout Studio: lets editors check reward schedules here against its API.",
    compilerOptions: { strict: true, noEmit: true, target: "ES2022", module: "ESNext", moduleResolution: "Bundler", skipLibCheck: true, types: [], paths: { "rollout-studio": [types] } },
    include: ["*.ts"],
  };
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + "\n");
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

async function createRunConfig(parts: Parts): Promise<string | undefined> {
  const folder = workspaceFolder().fsPath;
  const choice = await vscode.window.showQuickPick(
    [
      { label: "Demo run", description: "the bundled demo: tiny policy from its base, demo dataset, the demo's schedule (10 minutes on CPU)", id: "demo" },
      { label: "New run configuration…", description: "choose dataset, prompt template, policy and reward", id: "new" },
    ],
    { placeHolder: "Create a run configuration" },
  );
  if (!choice) return undefined;
  if (choice.id === "demo") return copyDemo(parts.context.extensionPath, folder);
  const data = await vscode.window.showOpenDialog({ title: "Training data (canonical JSONL, docs/dataset-format.md)", filters: { "JSON Lines": ["jsonl"] }, canSelectMany: false, defaultUri: vscode.Uri.file(folder) });
  if (!data?.[0]) return undefined;
  const template = await vscode.window.showQuickPick(["tool-zero", "tool-n1", "toolrl"], { placeHolder: "Prompt template" });
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
    [...PRESETS.map((p) => ({ label: p, description: "preset", schedule: false })), ...PRESETS.map((p) => ({ label: `${p} schedule file`, description: "a new schedule file to edit, from the preset", schedule: true, preset: p }))],
    { placeHolder: "Reward" },
  );
  if (!reward) return undefined;
  let rewardTable = `preset = "${reward.label}"\n`;
  if (reward.schedule) {
    const file = path.join(folder, "reward-schedule.ts");
    if (!fs.existsSync(file)) fs.writeFileSync(file, scheduleTemplate((reward as { preset: string }).preset));
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

export function registerCommands(parts: Parts): vscode.Disposable[] {
  const { manager, dashboards, explorers, tree } = parts;
  const replays = new ReplayPanels(parts.context);
  const guard =
    (fn: (...args: unknown[]) => Promise<unknown> | unknown) =>
    async (...args: unknown[]) => {
      try {
        await fn(...args);
      } catch (e) {
        void vscode.window.showErrorMessage(`Rollout Studio: ${(e as Error).message}`);
      }
    };
  const control = (command: "pause" | "resume" | "stop" | "checkpoint") =>
    guard(async (arg) => {
      const runDir = runDirOf(arg) ?? (await pickRun(parts, true));
      if (!runDir) return;
      await manager.control(runDir, command);
      tree.refresh();
    });

  return [
    vscode.commands.registerCommand(
      "rolloutStudio.startRun",
      guard(async (arg) => {
        let config = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === "string" ? arg : undefined;
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
          config = pick.path || (await createRunConfig(parts));
          if (!config) return;
        }
        const runDir = await manager.start(config);
        tree.refresh();
        dashboards.open(runDir);
      }),
    ),
    vscode.commands.registerCommand("rolloutStudio.pauseRun", control("pause")),
    vscode.commands.registerCommand("rolloutStudio.resumeRun", control("resume")),
    vscode.commands.registerCommand("rolloutStudio.stopRun", control("stop")),
    vscode.commands.registerCommand("rolloutStudio.checkpointNow", control("checkpoint")),
    vscode.commands.registerCommand(
      "rolloutStudio.openRun",
      guard(async (arg) => {
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
        dashboards.open(runDir);
        tree.remember(runDir);
        manager.attach(runDir); // a live engine started elsewhere (the CLI): follow it too
      }),
    ),
    vscode.commands.registerCommand(
      "rolloutStudio.openRollouts",
      guard(async (arg, step, only) => {
        const runDir = runDirOf(arg) ?? (await pickRun(parts, false));
        if (!runDir) return;
        readRunInfo(runDir);
        // `only`: a monitor's flagged samples ("step/group/sample" keys) and what to call them.
        const subset = only && typeof only === "object" && (only as { keys?: unknown }).keys instanceof Set ? (only as { keys: Set<string>; label: string }) : undefined;
        explorers.openRun(runDir, typeof step === "number" ? step : undefined, subset);
      }),
    ),
    vscode.commands.registerCommand(
      "rolloutStudio.openRewardVersion",
      guard(async (runDir: unknown, version: unknown) => {
        const entry = readRewardVersion(String(runDir), String(version));
        if (!entry) throw new Error(`reward version ${String(version)} is not stored in ${String(runDir)}/rewards`);
        const text = entry.source ?? JSON.stringify(entry, null, 2);
        const doc = await vscode.workspace.openTextDocument({ content: text, language: entry.source ? "typescript" : "json" });
        await vscode.window.showTextDocument(doc, { preview: true });
      }),
    ),
    vscode.commands.registerCommand(
      "rolloutStudio.editScheduleInline",
      guard(async (arg, where) => {
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
    ),
    vscode.commands.registerCommand(
      "rolloutStudio.newRewardSchedule",
      guard(async () => {
        const preset = await vscode.window.showQuickPick([...PRESETS], { placeHolder: "Start the schedule from which preset?" });
        if (!preset) return;
        const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(workspaceFolder(), "reward-schedule.ts"), filters: { TypeScript: ["ts"] } });
        if (!target) return;
        fs.writeFileSync(target.fsPath, scheduleTemplate(preset));
        writeScheduleTsconfig(parts.context.extensionPath, path.dirname(target.fsPath));
        await vscode.window.showTextDocument(target);
      }),
    ),
    vscode.commands.registerCommand(
      "rolloutStudio.replayReward",
      guard(async (arg) => {
        if (!vscode.workspace.isTrusted) throw new Error("This workspace is not trusted: reward code does not run in it.");
        const runDir = runDirOf(arg) ?? (await pickRun(parts, false));
        if (runDir) await replays.replay(runDir);
      }),
    ),
    vscode.commands.registerCommand(
      "rolloutStudio.pushReward",
      guard(async (arg) => {
        const runDir = runDirOf(arg) ?? (await pickRun(parts, true));
        if (runDir) await pushOrRollback(runDir, false);
      }),
    ),
    vscode.commands.registerCommand(
      "rolloutStudio.rollbackReward",
      guard(async (arg) => {
        const runDir = runDirOf(arg) ?? (await pickRun(parts, true));
        if (runDir) await pushOrRollback(runDir, true);
      }),
    ),
    vscode.commands.registerCommand(
      "rolloutStudio.scoreFile",
      guard(async (arg) => {
        if (!vscode.workspace.isTrusted) throw new Error("This workspace is not trusted: reward code does not run in it.");
        let file = arg instanceof vscode.Uri ? arg.fsPath : undefined;
        if (!file) {
          const picked = await vscode.window.showOpenDialog({ title: 'Samples to score (JSON Lines: {"completion", "ground_truth"})', filters: { "JSON Lines": ["jsonl"] } });
          file = picked?.[0]?.fsPath;
          if (!file) return;
        }
        const schedules = await vscode.workspace.findFiles("**/*schedule*.ts", "**/node_modules/**", 50);
        const reward = await vscode.window.showQuickPick(
          [...PRESETS.map((p) => ({ label: p, description: "preset", args: ["--preset", p] })), ...schedules.map((s) => ({ label: vscode.workspace.asRelativePath(s), description: "schedule file", args: ["--schedule", s.fsPath] }))],
          { placeHolder: "Score with which reward?" },
        );
        if (!reward) return;
        const out = file.replace(/\.jsonl$/, "") + `.scored.jsonl`;
        const code = await scoreWithCli(parts.context.extensionPath, file, out, reward.args);
        await vscode.window.showTextDocument(vscode.Uri.file(out));
        if (code !== 0) void vscode.window.showWarningMessage(`Rollout Studio: some lines of ${path.basename(file)} could not be scored (bad input or a reward failure); each is marked in ${path.basename(out)}.`);
      }),
    ),
  ];
}

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
