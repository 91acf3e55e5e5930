// The rollout explorer webview: a virtualised table of samples with filters and sorting, and a sample's
// detail — prompt, completion with its think and tool-call regions, each reward component with its
// explanation, the GRPO group, and the tool-call diff.

import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-textfield/index.js";
import "@vscode-elements/elements/dist/vscode-single-select/index.js";
import "@vscode-elements/elements/dist/vscode-option/index.js";

import { diffCalls, type CallsDiff } from "../reward/diff";
import type { ToolCall } from "../reward/parse";
import type { ExplorerToHost, HostToExplorer, Query, SampleDetail, SampleRow } from "./protocol";
import { callsDiffView, highlighted } from "./calls";
import { actionLink, el, notice, vscodeApi } from "./ui";
import "./styles.css";

/** Saved with the panel: the host reopens the same run (runDir, step) after a reload. */
const vscode = vscodeApi<{ query?: Query; selected?: number; runDir?: string; step?: number }>();
const send = (message: ExplorerToHost) => vscode.postMessage(message);

const ROW_HEIGHT = 24;
const BLOCK = 200; // rows asked for at a time
/** The host's current view: `count` rows of `total`, fetched in blocks as they scroll into sight. */
let view = { generation: 0, total: 0, count: 0, components: [] as string[], steps: [] as number[], reasons: [] as string[], versions: [] as string[], loading: false };
let cache = new Map<number, SampleRow>(); // by position in the view
const requested = new Set<number>(); // block starts asked for in this generation
let query: Query = vscode.getState()?.query ?? {};
let selected: number | undefined = vscode.getState()?.selected;
let selectedPosition = -1;
let detail: SampleDetail | null = null;
let toolbarSignature = "";
let source: { runDir?: string; step?: number } = {};

const app = document.getElementById("app") as HTMLElement;
const notices = el("div", { class: "notices" });
const toolbar = el("div", { class: "toolbar", role: "toolbar", "aria-label": "Filter and sort" });
const count = el("span", { class: "count", "aria-live": "polite" });
const tableHead = el("div", { class: "table-head", role: "row" });
const viewport = el("div", { class: "viewport", role: "grid", tabindex: "0", "aria-label": "Samples" });
const spacer = el("div", { class: "spacer" });
const body = el("div", { class: "rows" });
viewport.append(spacer, body);
const detailPane = el("section", { class: "detail", "aria-label": "Sample detail" });
app.append(notices, toolbar, el("div", { class: "table" }, tableHead, viewport), detailPane);

function saveState(): void {
  vscode.setState({ query, selected, ...source });
}

// ---------------------------------------------------------------------------------------------
// Toolbar

function select(label: string, options: [string, string][], value: string, onChange: (v: string) => void): HTMLElement {
  const s = el("vscode-single-select", { "aria-label": label, title: label });
  for (const [v, text] of options) {
    const o = el("vscode-option", { value: v }, text);
    if (v === value) o.setAttribute("selected", "");
    s.append(o);
  }
  s.addEventListener("change", () => onChange((s as unknown as { value: string }).value));
  return el("label", { class: "field" }, el("span", {}, label), s);
}

function renderToolbar(): void {
  const signature = JSON.stringify([query, view.components, view.steps, view.reasons, view.versions]);
  if (signature === toolbarSignature) return; // rebuilding it would drop the search box's focus
  toolbarSignature = signature;
  const search = el("vscode-textfield", { placeholder: "Search requests and prompt ids", "aria-label": "Search", value: query.text ?? "" });
  let pending: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(() => update({ ...query, text: (search as unknown as { value: string }).value || undefined }, false), 200);
  });
  toolbar.replaceChildren(
    search,
    select("Step", [["", "all steps"], ...view.steps.map((s): [string, string] => [String(s), `step ${s}`])], query.step === undefined ? "" : String(query.step), (v) =>
      update({ ...query, step: v === "" ? undefined : Number(v) }),
    ),
    select("Parse", [["", "any"], ["none", "parsed"], ["any", "failed (any reason)"], ...view.reasons.map((r): [string, string] => [r, r])], query.parse_failure ?? "", (v) =>
      update({ ...query, parse_failure: v || undefined }),
    ),
    select("Group", [["", "any"], ["all-right", "all right"], ["all-wrong", "all wrong"], ["mixed", "mixed"]], query.group_outcome ?? "", (v) =>
      update({ ...query, group_outcome: (v || undefined) as Query["group_outcome"] }),
    ),
    select("Exact", [["", "any"], ["yes", "exact"], ["no", "not exact"]], query.exact === undefined ? "" : query.exact ? "yes" : "no", (v) =>
      update({ ...query, exact: v === "" ? undefined : v === "yes" }),
    ),
    select("Reward version", [["", "any"], ...view.versions.map((v): [string, string] => [v, v.slice(0, 12)])], query.reward_version ?? "", (v) =>
      update({ ...query, reward_version: v || undefined }),
    ),
    select(
      "Sort",
      [["", "step order"], ["reward", "reward"], ["advantage", "advantage"], ["completion_tokens", "length"], ...view.components.map((c): [string, string] => [`component:${c}`, c])],
      query.sort ?? "",
      (v) => update({ ...query, sort: v || undefined }),
    ),
    select("Order", [["desc", "high first"], ["asc", "low first"]], query.descending === false ? "asc" : "desc", (v) => update({ ...query, descending: v === "desc" })),
    count,
  );
  if (query.prompt_id) {
    const chip = el("vscode-button", { secondary: "", title: "Show every prompt again" }, `prompt ${query.prompt_id} ✕`);
    chip.addEventListener("click", () => update({ ...query, prompt_id: undefined }));
    toolbar.append(chip);
  }
}

function update(q: Query, rebuildToolbar = true): void {
  query = { ...q };
  for (const key of Object.keys(query) as (keyof Query)[]) if (query[key] === undefined) delete query[key];
  saveState();
  viewport.scrollTop = 0;
  send({ type: "query", query });
  if (rebuildToolbar) renderToolbar();
}

// ---------------------------------------------------------------------------------------------
// Virtualised table: only the rows in view exist in the DOM, and only their blocks are fetched.

const COLUMNS = (): { label: string; cell: (r: SampleRow) => string; cls?: string }[] => [
  { label: "step", cell: (r) => String(r.step) },
  { label: "group", cell: (r) => String(r.group) },
  { label: "#", cell: (r) => String(r.sample) },
  { label: "reward", cell: (r) => (r.reward === null ? "failed" : r.reward.toFixed(3)), cls: "num" },
  { label: "adv.", cell: (r) => r.advantage.toFixed(2), cls: "num" },
  ...view.components.map((c) => ({ label: c, cell: (r: SampleRow) => (r.components[c] === undefined ? "" : (r.components[c] as number).toFixed(3)), cls: "num" })),
  { label: "exact", cell: (r) => (r.exact ? "✓" : "") },
  { label: "parse", cell: (r) => r.parse_failure ?? "ok" },
  { label: "group", cell: (r) => r.group_outcome },
  { label: "version", cell: (r) => r.reward_version.slice(0, 8) },
];

function gridTemplate(): string {
  return `repeat(3, 3.5em) 5em 4em ${view.components.map(() => "5.5em").join(" ")} 3.5em minmax(8em, 1fr) 6em 6em`;
}

function renderHead(): void {
  tableHead.replaceChildren(...COLUMNS().map((c) => el("div", { class: `cell ${c.cls ?? ""}`, role: "columnheader" }, c.label)));
  tableHead.style.gridTemplateColumns = gridTemplate();
}

function renderRows(): void {
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(view.count, first + Math.ceil(viewport.clientHeight / ROW_HEIGHT) + 10);
  const columns = COLUMNS();
  const template = gridTemplate();
  const nodes: HTMLElement[] = [];
  for (let k = first; k < last; k++) {
    const r = cache.get(k);
    if (!r) {
      const block = Math.floor(k / BLOCK) * BLOCK;
      if (!requested.has(block)) {
        requested.add(block);
        send({ type: "page", offset: block, count: BLOCK });
      }
      const placeholder = el("div", { class: "row loading", role: "row" }, el("div", { class: "cell" }, "…"));
      placeholder.style.top = `${k * ROW_HEIGHT}px`;
      nodes.push(placeholder);
      continue;
    }
    const row = el("div", { class: `row${r.index === selected ? " selected" : ""}${r.failure ? " failed" : ""}`, role: "row", "data-index": String(r.index), "aria-selected": String(r.index === selected) });
    row.style.top = `${k * ROW_HEIGHT}px`;
    row.style.gridTemplateColumns = template;
    for (const c of columns) row.append(el("div", { class: `cell ${c.cls ?? ""}`, role: "gridcell" }, c.cell(r)));
    row.addEventListener("click", () => open(r.index, k));
    nodes.push(row);
  }
  body.replaceChildren(...nodes);
}

viewport.addEventListener("scroll", () => requestAnimationFrame(renderRows));
window.addEventListener("resize", () => renderRows());
viewport.addEventListener("keydown", (e: KeyboardEvent) => {
  if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
  e.preventDefault();
  const next = Math.max(0, Math.min(view.count - 1, selectedPosition + (e.key === "ArrowDown" ? 1 : -1)));
  const top = next * ROW_HEIGHT;
  if (top < viewport.scrollTop || top > viewport.scrollTop + viewport.clientHeight - ROW_HEIGHT) viewport.scrollTop = top - viewport.clientHeight / 2;
  const r = cache.get(next);
  if (r) open(r.index, next);
});

function open(index: number, position: number): void {
  selected = index;
  selectedPosition = position;
  saveState();
  renderRows();
  send({ type: "detail", index });
}

// ---------------------------------------------------------------------------------------------
// Detail

function diffView(diff: CallsDiff, d: SampleDetail): HTMLElement {
  const box = el("div", { class: "diff" });
  box.append(...callsDiffView(diff, d.parse_failure ? `${d.parse_failure.reason}: ${d.parse_failure.message}` : undefined));
  const lost = Object.entries(d.components).filter(([, c]) => c.raw < 1 && c.weight !== 0);
  if (lost.length) {
    const list = el("ul", { class: "diff-cost" });
    for (const [name, c] of lost) list.append(el("li", {}, el("strong", {}, name), ` ${c.value.toFixed(3)} (raw ${c.raw.toFixed(3)} × weight ${c.weight.toFixed(3)}): ${c.why}`));
    box.append(el("p", {}, "Components below full credit:"), list);
  }
  if (diff.parsed && !diff.exact) box.append(el("div", { class: "costs" }, el("p", { class: "hint" }, "Working out what each difference cost…")));
  const button = el("vscode-button", { secondary: "" }, "Open in Diff Editor");
  button.addEventListener("click", () => send({ type: "openDiff", index: d.index }));
  box.append(button);
  return box;
}

/** Per difference: the reward it cost, by re-scoring the sample with only that difference fixed. */
function renderCosts(costs: { label: string; total: number | null; components: Record<string, number> }[] | null, note?: string): void {
  const box = detailPane.querySelector(".costs");
  if (!box) return;
  if (!costs) {
    box.replaceChildren(el("p", { class: "hint" }, note ?? "The cost of each difference is not available."));
    return;
  }
  const table = el("table", { class: "cost-table" });
  table.append(el("tr", {}, el("th", {}, "difference"), el("th", {}, "reward if fixed"), el("th", {}, "by component")));
  for (const c of costs) {
    const parts = Object.entries(c.components).map(([name, d]) => `${name} ${d > 0 ? "+" : ""}${d.toFixed(3)}`).join(", ");
    table.append(el("tr", { class: "cost" }, el("td", {}, c.label), el("td", { class: "num" }, c.total === null ? "failed" : `${c.total > 0 ? "+" : ""}${c.total.toFixed(3)}`), el("td", {}, parts || "no component changes")));
  }
  box.replaceChildren(el("p", {}, "What each difference cost (the sample scored again with only that difference fixed, by the reward version that scored it):"), table);
}

function renderDetail(): void {
  detailPane.replaceChildren();
  const d = detail;
  if (!d) {
    detailPane.append(el("p", { class: "hint" }, "Select a sample to see its prompt, completion, reward components and tool-call diff."));
    return;
  }
  const head = el("h2", {}, `Step ${d.step} · group ${d.group} · sample ${d.sample} · reward ${d.reward === null ? "failed" : d.reward.toFixed(3)} · advantage ${d.advantage.toFixed(3)}`);
  const samePrompt = el("vscode-button", { secondary: "" }, "Same prompt across steps");
  samePrompt.addEventListener("click", () => update({ ...query, prompt_id: d.prompt_id, step: undefined, sort: undefined }));
  const addCase = el("vscode-button", { secondary: "", title: "Pin this sample's reward as a reward test case (reward-cases/<run>.reward-cases.jsonl)" }, "Add as Reward Test Case");
  addCase.addEventListener("click", () => send({ type: "addCase", index: d.index }));
  const debug = el("vscode-button", { secondary: "", title: "Score this sample again under VS Code's debugger, at its step, with the reward version that scored it: breakpoints in the schedule stop" }, "Debug Reward on This Sample");
  debug.addEventListener("click", () => send({ type: "debug", index: d.index }));
  const resample = el("vscode-button", { secondary: "", title: "Open the playground on this sample's prompt: sample it again from the checkpoint that wrote it or a later one, scored by the reward you are editing" }, "Resample this prompt");
  resample.addEventListener("click", () => send({ type: "resample", index: d.index }));
  detailPane.append(head, el("div", { class: "detail-actions" }, samePrompt, addCase, debug, resample));
  if (d.failure) detailPane.append(el("div", { class: "notice notice-error" }, `Reward failure (${d.failure.kind}): ${d.failure.message}. The sample was left out of the advantages.`));

  const comps = el("table", { class: "components" });
  comps.append(el("tr", {}, el("th", {}, "component"), el("th", {}, "value"), el("th", {}, "raw"), el("th", {}, "weight"), el("th", {}, "why")));
  for (const [name, c] of Object.entries(d.components)) {
    // The component's name opens the schedule where its value was decided (the rule, else its score function).
    const title = c.at ? `Open the schedule at line ${c.at.line}, where this value was decided` : "Open the schedule at this component's score function";
    const link = actionLink(name, { class: "source-link", title }, () => send({ type: "openSource", index: d.index, component: name }));
    const where = c.at ? el("span", { class: "meta" }, ` · line ${c.at.line}`) : "";
    comps.append(el("tr", { class: "component", "data-component": name }, el("td", {}, link), el("td", { class: "num" }, c.value.toFixed(3)), el("td", { class: "num" }, c.raw.toFixed(3)), el("td", { class: "num" }, c.weight.toFixed(3)), el("td", {}, c.why, where)));
  }
  detailPane.append(el("h3", {}, "Reward components"), comps);

  detailPane.append(el("h3", {}, "Tool calls: predicted vs expected"), diffView(diffCalls(d.calls as ToolCall[] | null, d.ground_truth as ToolCall[]), d));

  if (d.reward_logs?.length) {
    // What the schedule printed (console.log and friends) while it scored this very sample.
    const out = el("pre", { class: "reward-logs" });
    for (const log of d.reward_logs) out.append(el("span", { class: `log-${log.stream}` }, log.text));
    detailPane.append(el("h3", {}, "Reward output"), out);
  }

  // A run from another trainer (TRL, verl, an import): the reward that trainer trained on, beside Rollout Studio's.
  const trainerReward = d.source_reward === undefined ? "" : ` · the trainer's own reward ${d.source_reward === null ? "none" : d.source_reward.toFixed(3)}`;
  detailPane.append(el("h3", {}, "Completion"), highlighted(d.completion), el("p", { class: "meta" }, `finish: ${d.finish_reason} · reward version ${d.reward_version}${trainerReward}`));
  const prompt = el("div", { class: "prompt" });
  for (const m of d.messages) prompt.append(el("div", { class: `message role-${m.role}` }, el("span", { class: "role" }, m.role), el("pre", {}, m.content)));
  const tools = el("details", {}, el("summary", {}, `${d.tools.length} tools`), el("pre", {}, JSON.stringify(d.tools, null, 2)));
  detailPane.append(el("h3", {}, "Prompt"), prompt, tools);

  const group = el("table", { class: "group" });
  group.append(el("tr", {}, el("th", {}, "#"), el("th", {}, "reward"), el("th", {}, "advantage"), el("th", {}, "exact"), el("th", {}, "parse")));
  for (const s of d.siblings) {
    const row = el("tr", { class: s.index === d.index ? "selected" : "", tabindex: "0" }, el("td", {}, String(s.sample)), el("td", { class: "num" }, s.reward === null ? "failed" : s.reward.toFixed(3)), el("td", { class: "num" }, s.advantage.toFixed(3)), el("td", {}, s.exact ? "✓" : ""), el("td", {}, s.parse_failure ?? "ok"));
    row.addEventListener("click", () => open(s.index, -1));
    row.addEventListener("keydown", (e) => (e as KeyboardEvent).key === "Enter" && open(s.index, -1));
    group.append(row);
  }
  detailPane.append(el("h3", {}, `GRPO group (${d.siblings.length} samples of this prompt)`), group);
}

window.addEventListener("message", (event: MessageEvent) => {
  const message = event.data as HostToExplorer;
  switch (message?.type) {
    case "view": {
      const first = view.generation === 0;
      view = message;
      source = { ...(message.runDir ? { runDir: message.runDir } : {}), ...(message.step !== undefined ? { step: message.step } : {}) };
      saveState();
      cache = new Map();
      requested.clear();
      count.textContent = `${message.count.toLocaleString()} of ${message.total.toLocaleString()} samples${message.loading ? " (loading…)" : ""}`;
      spacer.style.height = `${message.count * ROW_HEIGHT}px`;
      renderHead();
      renderToolbar();
      renderRows();
      if (first && selected !== undefined && selected < message.total) send({ type: "detail", index: selected });
      break;
    }
    case "page":
      if (message.generation !== view.generation) break; // an answer for an older view
      message.rows.forEach((r, k) => cache.set(message.offset + k, r));
      renderRows();
      break;
    case "detail":
      detail = message.detail;
      renderDetail();
      break;
    case "costs":
      if (detail?.index === message.index) renderCosts(message.costs, message.note);
      break;
    case "notice":
      notice(notices, message.notice);
      break;
  }
});

renderDetail();
send({ type: "ready", query });
