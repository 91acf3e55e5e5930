// Reward test cases in VS Code's Test Explorer: every *.reward-cases.jsonl in the workspace is a test
// file, each case a test at its line. A run checks them with `rollout-studio test-rewards --format json`
// in its own process (reward code never runs in the extension host), and a failing case shows what
// differs with an expected-vs-actual diff at the case's line.

import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";

import { cliEnv, cliPath } from "../plumbing/cli";
import { parseCases, type CaseResult } from "../../reward/cases";

const PATTERN = "**/*.reward-cases.jsonl";

export class RewardTests implements vscode.Disposable {
  private readonly controller = vscode.tests.createTestController("rolloutStudio.rewardCases", "Reward cases");
  private readonly disposables: vscode.Disposable[] = [this.controller];

  constructor(private readonly extensionPath: string) {
    this.controller.resolveHandler = async (item) => {
      if (!item) await this.discover();
      else this.readFile(item.uri as vscode.Uri);
    };
    this.controller.refreshHandler = () => this.discover();
    this.controller.createRunProfile("Check reward cases", vscode.TestRunProfileKind.Run, (request, token) => this.run(request, token), true);
    const watcher = vscode.workspace.createFileSystemWatcher(PATTERN);
    watcher.onDidCreate((uri) => this.readFile(uri));
    watcher.onDidChange((uri) => this.readFile(uri));
    watcher.onDidDelete((uri) => this.controller.items.delete(uri.toString()));
    this.disposables.push(watcher);
    void this.discover();
  }

  private async discover(): Promise<void> {
    for (const uri of await vscode.workspace.findFiles(PATTERN, "**/{node_modules,.rollout-studio}/**")) this.readFile(uri);
  }

  /** A file's cases as children of its test item; a line that is not a case shows as an error on the file. */
  private readFile(uri: vscode.Uri): vscode.TestItem {
    let file = this.controller.items.get(uri.toString());
    if (!file) {
      file = this.controller.createTestItem(uri.toString(), path.basename(uri.fsPath), uri);
      file.canResolveChildren = true;
      this.controller.items.add(file);
    }
    let text = "";
    try {
      text = fs.readFileSync(uri.fsPath, "utf8");
    } catch (e) {
      file.error = `cannot read the file: ${(e as Error).message}`;
      return file;
    }
    const { cases, problems, reward } = parseCases(uri.fsPath, text);
    file.error = problems.length ? problems.map((p) => `line ${p.line}: ${p.message}`).join("\n") : undefined;
    file.description = reward ? ("schedule" in reward ? reward.schedule : `preset ${reward.preset}`) : "no reward header";
    file.children.replace(
      cases.map((c) => {
        const item = this.controller.createTestItem(`${uri.toString()}#${c.line}`, c.name, uri);
        item.range = new vscode.Range(c.line - 1, 0, c.line - 1, 0);
        return item;
      }),
    );
    return file;
  }

  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const run = this.controller.createTestRun(request);
    try {
      if (!vscode.workspace.isTrusted) {
        run.appendOutput("This workspace is not trusted: reward code does not run in it.\r\n");
        return;
      }
      // The files to check, and the cases asked for in each (all when the file itself was asked for).
      const wanted = new Map<string, Set<string> | "all">();
      const roots = request.include ?? [...this.allFiles()];
      for (const item of roots) {
        const fileId = item.id.split("#")[0] as string;
        if (item.id === fileId) wanted.set(fileId, "all");
        else if (wanted.get(fileId) !== "all") wanted.set(fileId, new Set([...((wanted.get(fileId) as Set<string> | undefined) ?? []), item.id]));
      }
      for (const [fileId, which] of wanted) {
        if (token.isCancellationRequested) break;
        const file = this.controller.items.get(fileId) ?? this.readFile(vscode.Uri.parse(fileId));
        const items = new Map<string, vscode.TestItem>();
        file.children.forEach((c) => {
          if (which === "all" || which.has(c.id)) items.set(c.id, c);
        });
        if ((request.exclude ?? []).length) for (const ex of request.exclude ?? []) items.delete(ex.id);
        items.forEach((item) => run.started(item));
        const started = Date.now();
        let results: CaseResult[];
        try {
          results = await this.check((file.uri as vscode.Uri).fsPath, token);
        } catch (e) {
          items.forEach((item) => run.errored(item, new vscode.TestMessage((e as Error).message)));
          continue;
        }
        const each = (Date.now() - started) / Math.max(1, results.length);
        for (const result of results) {
          const item = items.get(`${fileId}#${result.line}`);
          if (!item) continue;
          if (result.ok) run.passed(item, each);
          else {
            const message = vscode.TestMessage.diff(result.message, JSON.stringify(result.expected, null, 2), JSON.stringify(result.actual, null, 2));
            message.location = new vscode.Location(item.uri as vscode.Uri, item.range as vscode.Range);
            run.failed(item, message, each);
          }
        }
      }
    } finally {
      run.end();
    }
  }

  private *allFiles(): Iterable<vscode.TestItem> {
    const items: vscode.TestItem[] = [];
    this.controller.items.forEach((item) => items.push(item));
    yield* items;
  }

  /** Runs `rollout-studio test-rewards FILE --format json` and reads its results. */
  private check(file: string, token: vscode.CancellationToken): Promise<CaseResult[]> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cliPath(this.extensionPath), "test-rewards", file, "--format", "json"], {
        cwd: path.dirname(file),
        env: cliEnv(),
      });
      const cancel = token.onCancellationRequested(() => child.kill());
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => {
        cancel.dispose();
        if (code === 0 || code === 1) resolve(stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as CaseResult));
        else reject(new Error(stderr.trim().replace(/^rollout-studio: /, "").split("\n")[0] || `test-rewards exited with ${code}`));
      });
    });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
