// Edit → replay → diff → push: score a run's stored rollouts with another reward version (the editor's
// buffer, saved or not; a schedule file; a version the run recorded) against the stored scores or any
// other version, show what changes, and push the version to the live run or roll back to an earlier one.
// Scoring runs in `rollout-studio replay` (its own process): user code never runs in VS Code's host.

import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";

import { rewardCommand, sendControl } from "../../runs/control";
import { runCli } from "../plumbing/cli";
import { requireStoredCode } from "../plumbing/trust";
import { newNonce } from "../plumbing/webviewHtml";
import type { ReplayReport } from "../../runs/replay";
import { liveEnginePid, readRunInfo } from "../../runs/runDir";
import { parseVersionSpec, sourceFor } from "../../runs/stored";

interface Pick extends vscode.QuickPickItem {
  spec: string;
}

function esc(text: unknown): string {
  return String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);
}

/** The schedule in the active editor written where the run can read it: the file itself when saved, else a copy in the run. */
function editorSchedule(runDir: string): { spec: string; label: string } | null {
  const doc = vscode.window.activeTextEditor?.document;
  if (!doc || !doc.getText().includes("defineSchedule")) return null;
  if (!doc.isDirty && !doc.isUntitled) return { spec: `schedule:${doc.uri.fsPath}`, label: path.basename(doc.fileName) };
  const folder = path.join(runDir, "rewards", "sources");
  fs.mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `buffer-${Date.now()}.ts`);
  fs.writeFileSync(file, doc.getText());
  return { spec: `schedule:${file}`, label: `${path.basename(doc.fileName)} (unsaved buffer)` };
}

async function pickVersion(runDir: string, title: string, withStored: boolean): Promise<Pick | undefined> {
  const info = readRunInfo(runDir);
  const items: Pick[] = [];
  if (withStored) items.push({ label: "Stored scores", description: "what the run recorded (every version that scored it)", spec: "stored" });
  const editor = editorSchedule(runDir);
  if (editor) items.push({ label: editor.label, description: "the schedule in the active editor", spec: editor.spec });
  for (const file of await vscode.workspace.findFiles("**/*.ts", "**/{node_modules,.rollout-studio,.git,dist}/**", 200)) {
    if (fs.readFileSync(file.fsPath, "utf8").includes("defineSchedule") && !items.some((i) => i.spec === `schedule:${file.fsPath}`)) {
      items.push({ label: vscode.workspace.asRelativePath(file), description: "schedule file", spec: `schedule:${file.fsPath}` });
    }
  }
  for (const v of info.reward_versions) items.push({ label: `version ${v}`, description: `recorded by the run, first scored step ${info.reward_version_steps?.[v] ?? "?"}`, spec: `version:${v}` });
  return vscode.window.showQuickPick(items, { title, placeHolder: title });
}

export class ReplayPanels {
  constructor(private readonly context: vscode.ExtensionContext) {}

  /** Asks what to compare, replays it and shows the report. */
  async replay(runDir: string): Promise<void> {
    const after = await pickVersion(runDir, "Replay which reward version on the stored rollouts?", false);
    if (!after) return;
    const before = await pickVersion(runDir, `Compare ${after.label} against…`, true);
    if (!before) return;
    for (const pick of [before, after]) if (pick.spec.startsWith("version:")) await requireStoredCode(runDir, "to replay a stored reward version");
    const steps = await vscode.window.showInputBox({ title: "Which stored steps?", value: "all", prompt: "all, a step (12), a range (10-20), a list (1,5,9-12) or last:N" });
    if (steps === undefined) return;
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Replaying ${after.label} on ${path.basename(runDir)}…` }, () =>
      runCli(this.context.extensionPath, ["replay", "--run", runDir, "--before", before.spec, "--after", after.spec, "--steps", steps || "all", "--format", "json"], { timeoutMs: 10 * 60_000 }).then(({ stdout, stderr, error }) => {
        if (error) throw new Error(stderr.trim().split("\n").slice(-3).join("\n") || error.message);
        return JSON.parse(stdout) as ReplayReport;
      }),
    );
    this.show(runDir, report, after);
  }

  private show(runDir: string, report: ReplayReport, after: Pick): void {
    const panel = vscode.window.createWebviewPanel("rolloutStudio.replay", `Replay · ${path.basename(runDir)}`, vscode.ViewColumn.Beside, { enableScripts: true, localResourceRoots: [] });
    const live = liveEnginePid(runDir) !== null;
    const nonce = newNonce();
    const f = (x: number | null) => (x === null ? "—" : x.toFixed(4));
    const max = Math.max(1, ...report.histogram.before, ...report.histogram.after);
    const bars = report.histogram.before
      .map((b, i) => `<tr><td class="num">${f(report.histogram.edges[i] ?? 0)}</td><td><div class="bar before" style="width:${(100 * b) / max}%"></div><div class="bar after" style="width:${(100 * (report.histogram.after[i] ?? 0)) / max}%"></div></td><td class="num">${b} → ${report.histogram.after[i] ?? 0}</td></tr>`)
      .join("");
    const g = report.groups;
    panel.webview.html = `<!DOCTYPE html><html><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'">
<style>body{font-family:var(--vscode-font-family);color:var(--vscode-foreground)} table{border-collapse:collapse;margin:.5em 0} td,th{padding:2px 8px;text-align:left} .num{text-align:right;font-variant-numeric:tabular-nums}
.bar{height:6px;margin:1px 0}.before{background:var(--vscode-charts-blue)}.after{background:var(--vscode-charts-orange)} button{margin-right:8px}</style></head><body>
<h2>Replay: ${esc(report.after.label)} vs ${esc(report.before.label)}</h2>
<p class="summary">${report.samples} samples of ${report.steps.length} step(s) in ${report.seconds.total.toFixed(2)} s · <b>${report.changed} changed</b> (${report.increased} up, ${report.decreased} down) · mean ${f(report.meanBefore)} → ${f(report.meanAfter)} · reward failures ${report.failuresBefore} → ${report.failuresAfter}</p>
<p>Versions: before ${esc(report.before.versions.join(", "))} · after ${esc(report.after.versions.join(", "))}</p>
${live && after.spec !== "stored" ? `<p><button id="push">Push ${esc(report.after.label)} to the live run</button> (hot-reloads at the next step, after the host's contract check)</p>` : live ? "" : "<p>The run is not live: pushing needs a running engine.</p>"}
<h3>Components</h3><table class="components"><tr><th>component</th><th class="num">mean before</th><th class="num">mean after</th><th class="num">samples changed</th></tr>
${report.components.map((c) => `<tr><td>${esc(c.name)}</td><td class="num">${f(c.meanBefore)}</td><td class="num">${f(c.meanAfter)}</td><td class="num">${c.changed}</td></tr>`).join("")}</table>
<h3>GRPO groups</h3><table class="groups"><tr><td>groups</td><td class="num">${g.total}</td></tr><tr><td>with no variance (teach nothing)</td><td class="num">${g.zeroVarianceBefore} → ${g.zeroVarianceAfter}</td></tr>
<tr><td>gain variance</td><td class="num">${g.gainVariance}</td></tr><tr><td>lose all variance</td><td class="num">${g.loseVariance}</td></tr><tr><td>advantage sign flips</td><td class="num">${g.signFlips}</td></tr><tr><td>mean |Δ advantage|</td><td class="num">${g.meanAbsAdvantageChange.toFixed(4)}</td></tr></table>
${report.newFailures.length ? `<h3>New reward failures</h3><ul>${report.newFailures.map((x) => `<li>${x.count} × ${esc(x.message)}</li>`).join("")}</ul>` : ""}
<h3>Reward distribution (blue before, orange after)</h3><table class="histogram">${bars}</table>
<h3>Largest changes</h3><table class="top"><tr><th>step</th><th>group</th><th>sample</th><th class="num">before</th><th class="num">after</th><th>components (before → after)</th></tr>
${report.top.slice(0, 50).map((r) => `<tr><td>${r.step}</td><td>${r.group}</td><td>${r.sample}</td><td class="num">${f(r.before)}</td><td class="num">${r.after === null ? `failed: ${esc(r.failureAfter ?? "")}` : f(r.after)}</td><td>${Object.entries(r.components).filter(([, [a, b]]) => a !== b).map(([n, [a, b]]) => `${esc(n)} ${f(a)} → ${f(b)}`).join(", ")}</td></tr>`).join("")}</table>
<script nonce="${nonce}">const vscode = acquireVsCodeApi(); document.getElementById("push")?.addEventListener("click", () => vscode.postMessage({ type: "push" }));</script>
</body></html>`;
    panel.webview.onDidReceiveMessage((m: { type?: unknown }) => {
      if (m?.type === "push") pushSpec(runDir, after.spec).catch((e: Error) => void vscode.window.showErrorMessage(`Rollout Studio: ${e.message}`));
    });
  }
}

/** Sends a version to the live run: it scores from the next step if the host's check passes. */
export async function pushSpec(runDir: string, spec: string): Promise<void> {
  if (spec.startsWith("version:")) await requireStoredCode(runDir, "to send a stored reward version to the live run");
  const source = sourceFor(runDir, readRunInfo(runDir), parseVersionSpec(spec));
  if (!source) throw new Error("The stored scores are not a reward version to push: pick a schedule or a recorded version.");
  const answer = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Sending the reward to ${path.basename(runDir)} (applied between steps)…` }, () => sendControl(runDir, rewardCommand(source), 15 * 60_000));
  if (!answer.ok) throw new Error(`The engine refused: ${answer.error}`);
  if (!answer.accepted) throw new Error(`The reward was not switched: it failed the host's check, version ${answer.version ?? "(none)"} goes on.\n${answer.error ?? ""}`);
  void vscode.window.showInformationMessage(`Rollout Studio: ${path.basename(runDir)} now scores with version ${answer.version}.`);
}

/** Push: a schedule (the active editor's or a workspace file) to a live run. Rollback: a version the run recorded. */
export async function pushOrRollback(runDir: string, rollback: boolean): Promise<void> {
  const info = readRunInfo(runDir);
  const pick = rollback
    ? await vscode.window.showQuickPick(
        info.reward_versions.map((v): Pick => ({ label: `version ${v}`, description: `first scored step ${info.reward_version_steps?.[v] ?? "?"}`, spec: `version:${v}` })),
        { title: "Roll back to which reward version?" },
      )
    : await pickVersion(runDir, "Push which reward to the live run?", false);
  if (pick) await pushSpec(runDir, pick.spec);
}
