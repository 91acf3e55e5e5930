// What Rollout Studio may run. Workspace Trust covers the workspace's own files; a run folder opened from
// elsewhere carries reward code of its own (rewards/<version>.json holds each version's source), which
// the user trusted by no act of theirs. That code runs only after the user says so, once per folder and
// window session.

import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";

const allowed = new Set<string>();
const declined = new Set<string>();

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** Whether `file` lies inside one of the workspace's folders (after following links). */
export function insideWorkspace(file: string): boolean {
  const target = real(file);
  return (vscode.workspace.workspaceFolders ?? []).some((folder) => {
    const relative = path.relative(real(folder.uri.fsPath), target);
    return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
  });
}

/**
 * Whether the reward code stored in `runDir` may run, for `purpose` ("to price each tool-call
 * difference"). Never in an untrusted workspace; without asking for a run inside the workspace; else the
 * user is asked. `ask: "unless declined"` does not ask again after a "no" in this session (for work done
 * on every sample opened); `ask: "always"` asks again (for a command the user just chose).
 */
export async function mayRunStoredCode(runDir: string, purpose: string, ask: "always" | "unless declined"): Promise<boolean> {
  if (!vscode.workspace.isTrusted) return false;
  const key = real(runDir);
  if (insideWorkspace(runDir) || allowed.has(key)) return true;
  if (ask === "unless declined" && declined.has(key)) return false;
  const run = "Run Its Reward Code";
  const answer = await vscode.window.showWarningMessage(
    `The run folder ${runDir} is outside this workspace. Its reward code (the versions stored in its rewards/ folder) has not been trusted by you. Run it ${purpose}?`,
    { modal: true, detail: "Reward code is TypeScript that runs with your permissions. Say yes only for runs from a source you trust. The answer holds for this folder until the window closes." },
    run,
  );
  if (answer === run) {
    allowed.add(key);
    declined.delete(key);
    return true;
  }
  declined.add(key);
  return false;
}

/** Throws with a message saying why, when the stored reward code of `runDir` may not run. */
export async function requireStoredCode(runDir: string, purpose: string): Promise<void> {
  if (!vscode.workspace.isTrusted) throw new Error("This workspace is not trusted: Rollout Studio runs no reward code in it.");
  if (!(await mayRunStoredCode(runDir, purpose, "always"))) throw new Error(`Not run: the reward code stored in ${runDir} (outside this workspace) was not allowed to run.`);
}
