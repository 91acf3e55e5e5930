// From a stored sample back to reward code: "Debug Reward on This Sample" (the sample scored again under
// VS Code's JavaScript debugger, so breakpoints in the schedule's TypeScript stop) and the jump from a
// reward component to the place in the schedule that decided its value.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";

import { cliPath } from "../plumbing/cli";
import type { TrajectoryRecord } from "../../runs/records";
import { readRewardVersion, readRunInfo } from "../../runs/runDir";
import { storedSample } from "../../reward/samples";
import { stepTimes, storedVersionSource } from "../../runs/stored";

interface ScheduleFile {
  file: string;
  /** Why this file and not the user's (it changed since the sample was scored). */
  note?: string;
}

/** The schedule file holding the version that scored a sample: the user's file when unchanged since, else a copy of the stored source. */
export function scheduleFileFor(runDir: string, version: string): ScheduleFile {
  const stored = readRewardVersion(runDir, version);
  const info = readRunInfo(runDir);
  if (!stored?.source) {
    const preset = info.config.reward?.preset;
    throw new Error(preset
      ? `This sample was scored by the ${preset} preset, which is built into Rollout Studio. To step through a reward, make it a schedule file (Rollout Studio: New Reward Schedule) and run with it.`
      : `Reward version ${version} has no stored source in ${runDir}, so there is no code to open.`);
  }
  // A relative source_file (a run written elsewhere) is read against the workspace folder.
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const original = stored.source_file && folder ? path.resolve(folder, stored.source_file) : null;
  for (const candidate of [stored.source_file, original]) {
    if (candidate && path.isAbsolute(candidate) && fs.existsSync(candidate) && fs.readFileSync(candidate, "utf8") === stored.source) return { file: candidate };
  }
  const copy = storedVersionSource(runDir, info, version);
  if (copy.kind !== "file") throw new Error(`Reward version ${version} is not a schedule file.`);
  return { file: copy.path, note: `The schedule changed since version ${version} scored this sample: this is that version's source, kept by the run. Breakpoints go here.` };
}

/** A Node for the debuggee: one on PATH (debuggers prefer a plain Node), else VS Code's own runtime. */
function nodeRuntime(): { runtimeExecutable: string; env: Record<string, string> } {
  try {
    const found = execFileSync(process.platform === "win32" ? "where" : "which", ["node"], { encoding: "utf8" }).split(/\r?\n/)[0]?.trim();
    if (found) return { runtimeExecutable: found, env: {} };
  } catch {
    // none on PATH
  }
  return { runtimeExecutable: process.execPath, env: { ELECTRON_RUN_AS_NODE: "1" } };
}

/** Starts the sample's scoring under the debugger; resolves once the session has started. */
export async function debugRewardOnSample(extensionPath: string, runDir: string, record: TrajectoryRecord): Promise<void> {
  const { file, note } = scheduleFileFor(runDir, record.reward_version);
  const info = readRunInfo(runDir);
  const time = stepTimes(runDir, info)(record.step);
  const folder = path.join(os.tmpdir(), "rollout-studio-debug");
  fs.mkdirSync(folder, { recursive: true });
  const name = `step${record.step}-group${record.group}-sample${record.sample}`;
  const sampleFile = path.join(folder, `${path.basename(runDir)}-${name}.json`);
  fs.writeFileSync(sampleFile, JSON.stringify({ ...storedSample(record, info.config.data?.template, name), step: time.step, progress: time.progress, epoch: time.epoch }, null, 2));
  const document = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(document, { preview: false, viewColumn: vscode.ViewColumn.Beside });
  if (note) void vscode.window.showInformationMessage(note);
  const runtime = nodeRuntime();
  const started = await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file)) ?? vscode.workspace.workspaceFolders?.[0], {
    type: "node",
    request: "launch",
    name: `Reward: ${name} of ${path.basename(runDir)}`,
    program: cliPath(extensionPath),
    args: ["debug-sample", "--schedule", file, "--sample", sampleFile],
    runtimeExecutable: runtime.runtimeExecutable,
    env: runtime.env,
    cwd: path.dirname(file),
    sourceMaps: true,
    // The schedule may live anywhere; its bundle's inline source map points back at it.
    resolveSourceMapLocations: null,
    skipFiles: ["<node_internals>/**", path.join(extensionPath, "dist", "**")],
    console: "internalConsole",
    outputCapture: "std",
  });
  if (!started) throw new Error("VS Code could not start the debugger (is the built-in JavaScript debugger enabled?)");
}

/** Opens the schedule where a component's value was decided: its rule() call, else its score function. */
export async function openComponentSource(runDir: string, record: TrajectoryRecord, component: string): Promise<void> {
  const { file, note } = scheduleFileFor(runDir, record.reward_version);
  const stored = readRewardVersion(runDir, record.reward_version);
  const components = ((stored?.schedule as { components?: { name: string; at?: { line: number; column: number; file?: string } }[] } | null)?.components ?? []);
  const at = record.components[component]?.at ?? components.find((c) => c.name === component)?.at;
  if (!at) throw new Error(`Reward version ${record.reward_version} did not record where component "${component}" is (it comes from a preset, or the run is older than attribution).`);
  const target = at.file ? path.resolve(path.dirname(file), at.file) : file;
  const position = new vscode.Position(Math.max(0, at.line - 1), Math.max(0, at.column - 1));
  await vscode.window.showTextDocument(vscode.Uri.file(target), { selection: new vscode.Range(position, position), preview: false, viewColumn: vscode.ViewColumn.Beside });
  if (note) void vscode.window.showInformationMessage(note);
}
