// The playground webview: a prompt (tools, request, an optional ground truth) and sampling settings; the
// host samples a checkpoint (or two, side by side) and sends back each answer with its reward breakdown,
// its parse failure if any, and the calls it made, diffed here against the ground truth.

import "@vscode-elements/elements/dist/vscode-button/index.js";

import { diffCalls } from "../reward/diff";
import type { PlaygroundAnswer, PlaygroundResult } from "../runs/playground";
import type { ToolCall } from "../reward/parse";
import { callsDiffView, highlighted } from "./calls";
import type { HostToPlayground, PlaygroundAsk, PlaygroundPromptFields, PlaygroundToHost } from "./protocol";
import { el, notice, vscodeApi } from "./ui";
import "./styles.css";

type Setup = Extract<HostToPlayground, { type: "setup" }>;

/** Saved with the panel: what the user typed survives hiding the panel and reloading it. */
const vscode = vscodeApi<{ fields?: Partial<PlaygroundAsk> }>();
const send = (message: PlaygroundToHost) => vscode.postMessage(message);

const app = document.getElementById("app") as HTMLElement;
const notices = el("div", { class: "notices" });
const header = el("div", { class: "playground-header" });
const form = el("form", { class: "playground-form", "aria-label": "Prompt and sampling settings" });
const status = el("p", { class: "playground-status hint", "aria-live": "polite" });
const results = el("div", { class: "playground-results" });
app.append(notices, header, form, status, results);

let history: { role: string; content: string }[] = [];
const columns: (PlaygroundResult | null)[] = [null, null];
let truth: ToolCall[] | null = null;
let rewardLabel = "";
let firstSetup = true;

function field(label: string, control: HTMLElement, wide = false): HTMLElement {
  return el("label", { class: `pg-field${wide ? " wide" : ""}` }, el("span", {}, label), control);
}

function selectOf(name: string, options: { id: string; label: string }[], value?: string): HTMLSelectElement {
  const s = el("select", { name }) as HTMLSelectElement;
  for (const o of options) s.append(el("option", { value: o.id }, o.label));
  if (value !== undefined) s.value = value;
  return s;
}

const input = (name: string, value: string, attrs: Record<string, string> = {}) => el("input", { name, value, ...attrs }) as HTMLInputElement;
const area = (name: string, rows: number) => el("textarea", { name, rows: String(rows), spellcheck: "false" }) as HTMLTextAreaElement;

const tools = area("tools", 8);
const request = input("request", "", { placeholder: "What the user asks, e.g. What is the weather in Paris" });
const groundTruth = area("groundTruth", 2);
groundTruth.placeholder = '[{"name": "get_weather", "arguments": {"city": "Paris"}}] (optional: answers are then diffed against it)';
const n = input("n", "4", { type: "number", min: "1", max: "64" });
const temperature = input("temperature", "1", { type: "number", min: "0", max: "5", step: "0.1" });
const topP = input("topP", "1", { type: "number", min: "0", max: "1", step: "0.05" });
const seed = input("seed", "0", { type: "number", step: "1" });
const maxNewTokens = input("maxNewTokens", "80", { type: "number", min: "1", max: "4096" });
const historyBox = el("div", { class: "pg-history" });
let checkpoint = selectOf("checkpoint", []);
let compare = selectOf("compare", []);
let template = selectOf("template", []);
let promptPick = selectOf("prompt", []);
const sampleButton = el("vscode-button", { class: "sample-button" }, "Sample");

function fillPrompt(p: PlaygroundPromptFields): void {
  tools.value = p.tools;
  request.value = p.request;
  groundTruth.value = p.groundTruth;
  history = p.history;
  if (p.template) template.value = p.template;
  renderHistory();
}

function renderHistory(): void {
  historyBox.replaceChildren();
  if (!history.length) return;
  const list = el("div", { class: "prompt" });
  for (const m of history) list.append(el("div", { class: `message role-${m.role}` }, el("span", { class: "role" }, m.role), el("pre", {}, m.content)));
  const clear = el("a", { href: "#" }, "clear");
  clear.addEventListener("click", (e) => {
    e.preventDefault();
    history = [];
    renderHistory();
  });
  historyBox.append(el("span", { class: "hint" }, `The conversation before the request (${history.length} messages) · `), clear, list);
}

function ask(): PlaygroundAsk {
  const num = (i: HTMLInputElement, fallback: number) => (Number.isFinite(i.valueAsNumber) ? i.valueAsNumber : fallback);
  return {
    checkpoint: checkpoint.value,
    ...(compare.value ? { compare: compare.value } : {}),
    template: template.value,
    tools: tools.value,
    history,
    request: request.value,
    groundTruth: groundTruth.value,
    n: Math.round(num(n, 4)),
    temperature: num(temperature, 1),
    topP: num(topP, 1),
    seed: Math.round(num(seed, 0)),
    maxNewTokens: Math.round(num(maxNewTokens, 80)),
  };
}

function renderSetup(s: Setup): void {
  header.replaceChildren(
    el("h1", {}, "Playground"),
    field("Run", selectOf("run", s.runs.map((r) => ({ id: r.runDir, label: r.label })), s.runDir)),
    el("span", { class: "hint reward-label" }, `Scored by ${s.reward}`),
  );
  header.querySelector("select")!.addEventListener("change", (e) => send({ type: "pickRun", runDir: (e.target as HTMLSelectElement).value }));
  if (s.origin) header.append(el("p", { class: "hint origin" }, `Resampling ${s.origin}.`));
  rewardLabel = s.reward;
  checkpoint = selectOf("checkpoint", s.checkpoints, s.checkpoint);
  compare = selectOf("compare", [{ id: "", label: "(none)" }, ...s.checkpoints], s.compare ?? "");
  template = selectOf("template", s.templates.map((t) => ({ id: t, label: t })), s.template);
  promptPick = selectOf("prompt", [{ id: "", label: "(type your own, or pick one)" }, ...s.prompts], "");
  promptPick.addEventListener("change", () => promptPick.value && send({ type: "pickPrompt", id: promptPick.value }));
  form.replaceChildren(
    el("div", { class: "pg-row" }, field("Checkpoint", checkpoint), field("Compare with", compare), field("Template", template), field("Start from a dataset prompt", promptPick, true)),
    field("Tools (JSON list of schemas)", tools, true),
    historyBox,
    field("Request", request, true),
    field("Ground truth (JSON list of calls)", groundTruth, true),
    el("div", { class: "pg-row" }, field("Answers", n), field("Temperature (0: greedy)", temperature), field("Top-p", topP), field("Seed", seed), field("Max new tokens", maxNewTokens), sampleButton),
  );
  if (s.prompt) fillPrompt(s.prompt);
  // What the user had typed comes back once, when the panel reloads; a run picked later shows its own prompt.
  const saved = firstSetup ? vscode.getState()?.fields : undefined;
  firstSetup = false;
  if (saved && !s.origin && saved.tools !== undefined) {
    tools.value = saved.tools;
    request.value = saved.request ?? "";
    groundTruth.value = saved.groundTruth ?? "";
    history = saved.history ?? [];
    renderHistory();
  }
}

sampleButton.addEventListener("click", () => submit());
form.addEventListener("submit", (e) => {
  e.preventDefault();
  submit();
});

function submit(): void {
  const a = ask();
  vscode.setState({ fields: a });
  columns[0] = columns[1] = null;
  results.replaceChildren();
  status.textContent = "Asking…";
  sampleButton.setAttribute("disabled", "");
  send({ type: "sample", ask: a });
}

const fmt = (x: number | null) => (x === null ? "failed" : x.toFixed(3));

function answerView(a: PlaygroundAnswer, i: number): HTMLElement {
  const diff = truth ? diffCalls(a.calls, truth) : null;
  const card = el("section", { class: `answer${diff?.exact ? " exact" : ""}`, "aria-label": `Answer ${i + 1}` });
  card.append(el("h3", {}, `#${i + 1} · reward ${fmt(a.reward)}${diff ? (diff.exact ? " · exact" : " · not exact") : ""} · ${a.tokens} tokens${a.finish === "length" ? " (cut at the limit)" : ""}`));
  if (a.failure) card.append(el("div", { class: "notice notice-error" }, `Reward failure: ${a.failure}`));
  card.append(highlighted(a.text));
  if (a.parseFailure) card.append(el("p", { class: "parse-failure" }, `Did not parse: ${a.parseFailure}`));
  const comps = el("table", { class: "components" });
  comps.append(el("tr", {}, el("th", {}, "component"), el("th", {}, "value"), el("th", {}, "why")));
  for (const c of a.components) comps.append(el("tr", { class: "component" }, el("td", {}, c.name), el("td", { class: "num" }, c.value.toFixed(3)), el("td", {}, c.why)));
  card.append(comps);
  if (diff) card.append(...callsDiffView(diff, a.parseFailure));
  else card.append(el("p", { class: "hint" }, `No ground truth given: scored as if no call were expected. Calls made: ${a.calls ? JSON.stringify(a.calls) : "none parsed"}.`));
  return card;
}

function renderResults(): void {
  results.replaceChildren();
  results.classList.toggle("two", columns[1] !== null || !!compare.value);
  columns.forEach((r) => {
    if (!r) return;
    const exact = truth ? r.answers.filter((a) => diffCalls(a.calls, truth!).exact).length : null;
    const scored = r.answers.filter((a) => a.reward !== null);
    const mean = scored.length ? scored.reduce((s, a) => s + a.reward!, 0) / scored.length : null;
    const t = r.timings;
    const col = el("div", { class: "column", "data-checkpoint": r.checkpoint.id });
    col.append(
      el("h2", {}, `${r.checkpoint.label} · mean reward ${fmt(mean)}${exact === null ? "" : ` · exact ${exact} / ${r.answers.length}`}`),
      el("p", { class: "meta timings" }, `prompt ${r.promptTokens} tokens · load ${t.loadMs.toFixed(0)} ms · sample ${t.sampleMs.toFixed(0)} ms · score ${t.scoreMs.toFixed(0)} ms · ${rewardLabel}, version ${r.answers[0]?.reward_version.slice(0, 12) ?? "?"}`),
      ...r.answers.map(answerView),
    );
    results.append(col);
  });
}

window.addEventListener("message", (event: MessageEvent) => {
  const m = event.data as HostToPlayground;
  switch (m?.type) {
    case "setup":
      renderSetup(m);
      break;
    case "prompt":
      fillPrompt(m.prompt);
      break;
    case "status":
      status.textContent = m.text;
      break;
    case "results":
      truth = m.truth;
      rewardLabel = m.reward;
      columns[m.column] = m.result;
      renderResults();
      break;
    case "done":
      status.textContent = `Done in ${m.seconds.toFixed(2)} s.`;
      sampleButton.removeAttribute("disabled");
      break;
    case "notice":
      notice(notices, m.notice);
      if (m.notice.level === "error") {
        status.textContent = "";
        sampleButton.removeAttribute("disabled");
      }
      break;
  }
});

send({ type: "ready" });
