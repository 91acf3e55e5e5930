// The contract check on save: when a reward schedule is saved, `rollout-studio check` runs it twice on
// stored samples of the run that uses it (else the newest run) and its findings go to the Problems panel:
// exceptions at their line, non-finite values, values outside declared ranges, non-determinism, slow
// samples, and the latency per sample. The reward host runs the same check before a hot reload, so a
// version with errors here is not switched into a live run.

import path from "node:path";
import * as vscode from "vscode";

import type { ContractReport } from "../../reward/host/contract";
import { readRunInfo } from "../../runs/runDir";
import { runCli } from "../plumbing/cli";

interface CheckOutput extends Partial<ContractReport> {
  file: string;
  ok: boolean;
  loadErrors?: { file: string; line: number; column: number; text: string }[];
}

export class ContractCheck implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection("rollout-studio");
  private readonly disposables: vscode.Disposable[] = [this.diagnostics];
  private readonly running = new Map<string, AbortController>();
  /** For each schedule, the files its last check put diagnostics in. */
  private readonly shown = new Map<string, string[]>();

  constructor(private readonly extensionPath: string, private readonly runDirs: () => string[]) {
    this.disposables.push(vscode.workspace.onDidSaveTextDocument((doc) => void this.onSave(doc)));
  }

  /** Schedules are TypeScript or JavaScript files that call defineSchedule. */
  static isSchedule(doc: vscode.TextDocument): boolean {
    return /\.(ts|mts|js|mjs)$/.test(doc.fileName) && !doc.fileName.endsWith(".d.ts") && doc.getText().includes("defineSchedule");
  }

  /** The run whose samples the schedule is checked on: one that scores with this file, else the newest. */
  runFor(file: string): string | undefined {
    const runs = this.runDirs();
    const uses = runs.find((dir) => {
      try {
        const schedule = readRunInfo(dir).config.reward?.schedule;
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? "";
        return typeof schedule === "string" && path.resolve(folder, schedule) === file;
      } catch {
        return false;
      }
    });
    return uses ?? runs[0];
  }

  private async onSave(doc: vscode.TextDocument): Promise<void> {
    if (!ContractCheck.isSchedule(doc) || !vscode.workspace.isTrusted) return;
    await this.check(doc.uri);
  }

  /** Checks a schedule file and shows the result in the Problems panel; resolves with the CLI's report. */
  async check(uri: vscode.Uri): Promise<CheckOutput | null> {
    const file = uri.fsPath;
    this.running.get(file)?.abort();
    const abort = new AbortController();
    this.running.set(file, abort);
    const run = this.runFor(file);
    const args = ["check", "--schedule", file, "--format", "json", ...(run ? ["--run", run] : [])];
    const { stdout, error } = await runCli(this.extensionPath, args, { timeoutMs: 120_000, signal: abort.signal });
    const last = stdout.trim().split("\n").pop();
    const output = abort.signal.aborted ? null : last?.startsWith("{") ? last : error ? JSON.stringify({ file, ok: false, loadErrors: [{ file, line: 1, column: 1, text: `the contract check could not run: ${error.message}` }] }) : null;
    if (this.running.get(file) === abort) this.running.delete(file);
    if (output === null) return null;
    const report = JSON.parse(output) as CheckOutput;
    this.show(uri, report, run);
    return report;
  }

  private show(uri: vscode.Uri, report: CheckOutput, run: string | undefined): void {
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const add = (file: string, d: vscode.Diagnostic) => byFile.set(file, [...(byFile.get(file) ?? []), d]);
    const at = (line: number, column: number) => new vscode.Range(Math.max(0, line - 1), Math.max(0, column - 1), Math.max(0, line - 1), Number.MAX_SAFE_INTEGER);
    for (const e of report.loadErrors ?? []) {
      add(e.file, Object.assign(new vscode.Diagnostic(at(e.line, e.column), `The schedule does not load: ${e.text}`, vscode.DiagnosticSeverity.Error), { source: "Rollout Studio" }));
    }
    for (const p of report.problems ?? []) {
      const file = p.at?.file ? path.resolve(path.dirname(uri.fsPath), p.at.file) : uri.fsPath;
      const count = p.count > 1 ? ` (${p.count} samples)` : "";
      const d = new vscode.Diagnostic(at(p.at?.line ?? 1, p.at?.column ?? 1), `${p.message}${count}`, p.blocking ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      d.source = "Rollout Studio";
      d.code = p.kind;
      add(file, d);
    }
    if (report.latencyMs && report.samples) {
      const l = report.latencyMs;
      const verdict = report.ok ? "passes its contract" : "fails its contract and will not be hot-reloaded into a live run";
      const d = new vscode.Diagnostic(at(1, 1), `Version ${report.version} ${verdict}: checked twice on ${report.samples} stored samples of ${path.basename(run ?? "")}; ${l.mean.toFixed(2)} ms per sample (p95 ${l.p95.toFixed(2)}, max ${l.max.toFixed(2)})`, vscode.DiagnosticSeverity.Information);
      d.source = "Rollout Studio";
      d.code = "latency";
      add(uri.fsPath, d);
    }
    // Replace this schedule's diagnostics (and those it put in files it imports).
    for (const file of this.shown.get(uri.fsPath) ?? []) this.diagnostics.delete(vscode.Uri.file(file));
    this.diagnostics.delete(uri);
    for (const [file, list] of byFile) this.diagnostics.set(vscode.Uri.file(file), list);
    this.shown.set(uri.fsPath, [...byFile.keys()]);
  }

  dispose(): void {
    for (const a of this.running.values()) a.abort();
    for (const d of this.disposables) d.dispose();
  }
}
