// The inline reward-schedule editor: monaco with the schedule API's declarations, so completion and type
// errors work as in a normal TypeScript tab. The text lives in the host's document; this view sends each
// edit there and takes changes made elsewhere. "Preview" scores the run's latest samples with the text as
// it is, before it is saved.

import "@vscode-elements/elements/dist/vscode-button/index.js";
import * as monaco from "monaco-editor/editor/editor.api";
import "monaco-editor/languages/definitions/typescript/register";
import { typescriptDefaults, ModuleKind, ModuleResolutionKind, ScriptTarget } from "monaco-editor/languages/features/typescript/register";

import type { HostToSchedule, PreviewRow, ScheduleToHost } from "./protocol";
import { el, notice, vscodeApi } from "./ui";
import "./styles.css";

const vscode = vscodeApi<Record<string, never>>();
const send = (message: ScheduleToHost) => vscode.postMessage(message);
const root = (document.getElementById("app") as HTMLElement).dataset.root as string;

// Workers are fetched from the bundle folder and started from blob: URLs (a webview cannot start a
// worker from its resource origin directly).
(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  async getWorker(_id: string, label: string) {
    const file = label === "typescript" || label === "javascript" ? "ts.worker.js" : "editor.worker.js";
    const code = await (await fetch(`${root}/${file}`)).text();
    return new Worker(URL.createObjectURL(new Blob([code], { type: "text/javascript" })));
  },
};

const app = document.getElementById("app") as HTMLElement;
const bar = el("div", { class: "schedule-bar" });
const notices = el("div", { class: "notices" });
const host = el("div", { class: "monaco-host" });
const previewBox = el("section", { class: "preview", "aria-live": "polite" });
app.append(bar, notices, host, previewBox);
app.classList.add("schedule-app");

const dark = document.body.classList.contains("vscode-dark") || document.body.classList.contains("vscode-high-contrast");
let editor: monaco.editor.IStandaloneCodeEditor | undefined;
let echo = false; // set while applying the host's text, so it is not sent back

typescriptDefaults.setCompilerOptions({
  target: ScriptTarget.ES2020,
  module: ModuleKind.ESNext,
  moduleResolution: ModuleResolutionKind.NodeJs,
  strict: true,
  noEmit: true,
  allowNonTsExtensions: true,
});

function init(text: string, fileName: string, declarations: { path: string; content: string }[]): void {
  for (const d of declarations) typescriptDefaults.addExtraLib(d.content, d.path);
  const model = monaco.editor.createModel(text, "typescript", monaco.Uri.parse(`file:///schedule/${fileName}`));
  editor = monaco.editor.create(host, {
    model,
    theme: document.body.classList.contains("vscode-high-contrast") ? "hc-black" : dark ? "vs-dark" : "vs",
    automaticLayout: true,
    minimap: { enabled: false },
    fontSize: 13,
    scrollBeyondLastLine: false,
    ariaLabel: `Reward schedule ${fileName}`,
  });
  let pending: ReturnType<typeof setTimeout> | undefined;
  model.onDidChangeContent(() => {
    if (echo) return;
    clearTimeout(pending);
    pending = setTimeout(() => send({ type: "edit", text: model.getValue() }), 150);
  });
  const previewButton = el("vscode-button", { title: "Score the run's latest samples with this text, before saving" }, "Preview on latest samples");
  previewButton.addEventListener("click", () => {
    previewBox.replaceChildren(el("p", { class: "hint" }, "Scoring…"));
    send({ type: "preview", text: model.getValue() });
  });
  bar.replaceChildren(el("span", { class: "file" }, fileName), el("span", { class: "hint" }, "Saving (Ctrl+S) hot-reloads the schedule into a running trainer."), previewButton);
}

function setText(text: string): void {
  const model = editor?.getModel();
  if (!model || model.getValue() === text) return;
  echo = true;
  model.pushEditOperations([], [{ range: model.getFullModelRange(), text }], () => null);
  echo = false;
}

function showPreview(runDir: string, step: number, rows: PreviewRow[]): void {
  const changed = rows.filter((r) => r.before !== r.after);
  const failures = rows.filter((r) => r.failure);
  const mean = (values: (number | null)[]) => {
    const v = values.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  };
  previewBox.replaceChildren(
    el("h3", {}, `Preview: step ${step} of run ${runDir}, ${rows.length} samples`),
    el(
      "p",
      {},
      `${changed.length} samples change score; mean reward ${mean(rows.map((r) => r.before)).toFixed(3)} → ${mean(rows.map((r) => r.after)).toFixed(3)}` +
        (failures.length ? `; ${failures.length} reward failures (${failures[0]!.failure})` : ""),
    ),
  );
  const table = el("table", { class: "preview-table" });
  table.append(el("tr", {}, el("th", {}, "sample"), el("th", {}, "stored"), el("th", {}, "preview"), el("th", {}, "change"), el("th", {}, "components that change")));
  for (const r of [...changed].sort((a, b) => Math.abs((b.after ?? 0) - (b.before ?? 0)) - Math.abs((a.after ?? 0) - (a.before ?? 0))).slice(0, 30)) {
    const parts = Object.keys({ ...r.componentsBefore, ...r.componentsAfter })
      .filter((c) => r.componentsBefore[c] !== r.componentsAfter[c])
      .map((c) => `${c} ${r.componentsBefore[c]?.toFixed(3) ?? "—"} → ${r.componentsAfter[c]?.toFixed(3) ?? "—"}`)
      .join(", ");
    const delta = r.before !== null && r.after !== null ? (r.after - r.before).toFixed(3) : "";
    table.append(el("tr", {}, el("td", {}, r.id), el("td", { class: "num" }, r.before?.toFixed(3) ?? "failed"), el("td", { class: "num" }, r.after?.toFixed(3) ?? "failed"), el("td", { class: "num" }, delta), el("td", {}, parts)));
  }
  previewBox.append(table);
}

window.addEventListener("message", (event: MessageEvent) => {
  const message = event.data as HostToSchedule;
  switch (message?.type) {
    case "init":
      init(message.text, message.fileName, message.declarations);
      break;
    case "text":
      setText(message.text);
      break;
    case "preview":
      showPreview(message.runDir, message.step, message.rows);
      break;
    case "notice":
      notice(notices, message.notice);
      break;
  }
});

send({ type: "ready" });
