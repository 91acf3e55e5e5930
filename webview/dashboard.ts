// The dashboard webview: live curves of one run. Runs in the webview (no Node APIs); everything comes from
// the host as HostToDashboard messages.

import "@vscode-elements/elements/dist/vscode-button/index.js";
import { Chart, Filler, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset } from "chart.js";
import annotationPlugin from "chartjs-plugin-annotation";

import type { EvalResult, RunInfo, StepMetrics } from "../runs/records";
import type { DashboardToHost, HostToDashboard, MonitorCounts } from "./protocol";
import { actionLink, el, notice, themeColor, vscodeApi } from "./ui";
import "./styles.css";

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Legend, Tooltip, annotationPlugin);

const vscode = vscodeApi<{ runDir?: string }>();
const send = (message: DashboardToHost) => vscode.postMessage(message);

const PALETTE = ["--vscode-charts-blue", "--vscode-charts-orange", "--vscode-charts-green", "--vscode-charts-purple", "--vscode-charts-red", "--vscode-charts-yellow"];
const color = (i: number) => themeColor(PALETTE[i % PALETTE.length] as string, "#4e79a7");

let run: RunInfo | null = null;
let live = false;
const metrics: StepMetrics[] = [];
let evals: EvalResult[] = [];

interface Panel {
  title: string;
  series: (m: StepMetrics[]) => { label: string; data: (number | null)[]; band?: [number[], number[]] }[];
  percent?: boolean;
}

const pct = (v: number) => v * 100;
const PANELS: Panel[] = [
  { title: "Reward (mean, min–max band)", series: (m) => [{ label: "reward", data: m.map((x) => x.reward.mean), band: [m.map((x) => x.reward.min), m.map((x) => x.reward.max)] }] },
  {
    title: "Reward components (weighted mean)",
    series: (m) => componentNames(m).map((name) => ({ label: name, data: m.map((x) => x.components[name]?.mean ?? null) })),
  },
  {
    title: "Schedule weights",
    series: (m) => componentNames(m).map((name) => ({ label: name, data: m.map((x) => x.components[name]?.weight ?? null) })),
  },
  {
    title: "Rates (%)",
    percent: true,
    series: (m) => [
      { label: "format pass", data: m.map((x) => pct(x.format_pass_rate)) },
      { label: "parse failure", data: m.map((x) => pct(x.parse_failure_rate)) },
      { label: "exact match", data: m.map((x) => pct(x.exact_match_rate)) },
      { label: "zero-variance groups", data: m.map((x) => pct(x.zero_variance_groups)) },
      { label: "truncated", data: m.map((x) => pct(x.truncation_rate)) },
    ],
  },
  {
    title: "Parse failures by reason (count)",
    series: (m) => {
      const reasons = [...new Set(m.flatMap((x) => Object.keys(x.parse_failures ?? {})))];
      return reasons.map((r) => ({ label: r, data: m.map((x) => x.parse_failures?.[r] ?? 0) }));
    },
  },
  { title: "Reward failures (count)", series: (m) => [{ label: "reward failures", data: m.map((x) => x.reward_failures) }] },
  {
    title: "KL and entropy",
    series: (m) => [
      { label: "KL", data: m.map((x) => x.kl) },
      { label: "entropy", data: m.map((x) => x.entropy) },
    ],
  },
  {
    title: "Response length (tokens)",
    series: (m) => [
      { label: "mean", data: m.map((x) => x.completion_length.mean) },
      { label: "max", data: m.map((x) => x.completion_length.max) },
    ],
  },
  {
    title: "Throughput (tokens/s)",
    series: (m) => [
      { label: "rollout", data: m.map((x) => x.tokens_per_s.rollout) },
      { label: "train", data: m.map((x) => x.tokens_per_s.train) },
    ],
  },
];

function componentNames(m: StepMetrics[]): string[] {
  return [...new Set(m.flatMap((x) => Object.keys(x.components ?? {})))];
}

const app = document.getElementById("app") as HTMLElement;
const header = el("header", { class: "run-header" });
const notices = el("div", { class: "notices", role: "status" });
const latest = el("table", { class: "latest", "aria-label": "Latest step" });
const grid = el("div", { class: "grid" });
const evalBox = el("section", { class: "evals" });
const monitorBox = el("section", { class: "monitors" });
const failureBox = el("section", { class: "failures" });
app.append(header, notices, latest, monitorBox, failureBox, grid, evalBox);

const failures: { step: number; message: string; count: number }[] = [];

/** Reward failures by step and message, newest first; a count opens those samples. */
function renderFailures(): void {
  if (!failures.length) {
    failureBox.replaceChildren();
    return;
  }
  const table = el("table", { class: "failure-table" });
  table.append(el("tr", {}, el("th", {}, "step"), el("th", { class: "num" }, "samples"), el("th", {}, "message (left out of the advantages)")));
  for (const f of [...failures].reverse().slice(0, 50)) {
    const a = actionLink(String(f.count), {}, () => send({ type: "openFailures", step: f.step }));
    table.append(el("tr", { class: "failure-row" }, el("td", {}, String(f.step)), el("td", { class: "num" }, a), el("td", {}, f.message)));
  }
  failureBox.replaceChildren(el("h3", {}, `Reward failures (${failures.reduce((n, f) => n + f.count, 0)})`), table);
}

const monitorSteps: MonitorCounts[] = [];

/** Each monitor: its count at the latest evaluated step and over the run; a count opens those samples. */
function renderMonitors(): void {
  const last = monitorSteps[monitorSteps.length - 1];
  if (!last) {
    monitorBox.replaceChildren();
    return;
  }
  const table = el("table", { class: "monitor-table" });
  table.append(el("tr", {}, el("th", {}, "monitor"), el("th", { class: "num" }, `step ${last.step}`), el("th", { class: "num" }, "whole run"), el("th", { class: "num" }, "steps flagged")));
  const link = (text: string, id: string, step?: number) => actionLink(text, { class: "monitor-link", "data-monitor": id }, () => send({ type: "openMonitor", id, ...(step === undefined ? {} : { step }) }));
  for (const m of last.monitors) {
    const counts = monitorSteps.map((s) => s.monitors.find((x) => x.id === m.id)?.count ?? 0);
    const total = counts.reduce((a: number, b) => a + (b ?? 0), 0);
    const flaggedSteps = counts.filter((c) => (c ?? 0) > 0).length;
    const now = m.error ? el("span", { class: "error", title: m.error }, "error") : m.count ? link(String(m.count), m.id, last.step) : "0";
    table.append(el("tr", { class: "monitor-row", "data-monitor": m.id }, el("td", { title: m.error ?? "" }, m.title), el("td", { class: "num" }, now), el("td", { class: "num" }, total ? link(String(total), m.id) : "0"), el("td", { class: "num" }, String(flaggedSteps))));
  }
  monitorBox.replaceChildren(el("h3", {}, "Monitors"), table);
}

const charts: Chart[] = PANELS.map((panel) => {
  const figure = el("figure", { class: "chart" });
  const caption = el("figcaption", {}, panel.title);
  const canvas = el("canvas", { role: "img", "aria-label": panel.title }) as HTMLCanvasElement;
  figure.append(caption, canvas);
  grid.append(figure);
  const fg = themeColor("--vscode-foreground", "#ccc");
  const gridColor = themeColor("--vscode-editorWidget-border", "#444");
  return new Chart(canvas, {
    type: "line",
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { type: "linear", title: { display: true, text: "step", color: fg }, ticks: { color: fg }, grid: { color: gridColor } },
        y: { ticks: { color: fg }, grid: { color: gridColor } },
      },
      plugins: { legend: { labels: { color: fg, boxWidth: 12 } }, annotation: { annotations: {} } },
    },
  });
});

function versionMarkers(): Record<string, object> {
  if (!run?.reward_version_steps) return {};
  const fg = themeColor("--vscode-editorWarning-foreground", "#cca700");
  const markers: Record<string, object> = {};
  const entries = Object.entries(run.reward_version_steps).sort((a, b) => a[1] - b[1]);
  entries.forEach(([version, step], i) => {
    if (i === 0 && step <= 1) return; // the version the run started with is not a change
    markers[version] = {
      type: "line",
      xMin: step,
      xMax: step,
      borderColor: fg,
      borderDash: [4, 4],
      borderWidth: 1,
      label: { display: true, content: version.slice(0, 8), position: "start", color: fg, backgroundColor: "transparent", font: { size: 10 } },
    };
  });
  return markers;
}

function render(): void {
  const steps = metrics.map((m) => m.step);
  const markers = versionMarkers();
  PANELS.forEach((panel, i) => {
    const chart = charts[i] as Chart;
    const datasets: ChartDataset<"line">[] = [];
    panel.series(metrics).forEach((s, k) => {
      const c = color(k);
      if (s.band) {
        datasets.push({ label: `${s.label} min`, data: steps.map((x, j) => ({ x, y: s.band![0][j] as number })), borderWidth: 0, pointRadius: 0, fill: false });
        datasets.push({ label: `${s.label} max`, data: steps.map((x, j) => ({ x, y: s.band![1][j] as number })), borderWidth: 0, pointRadius: 0, fill: "-1", backgroundColor: `${c}33` });
      }
      datasets.push({ label: s.label, data: steps.map((x, j) => ({ x, y: s.data[j] ?? NaN })), borderColor: c, backgroundColor: c, borderWidth: 1.5, pointRadius: steps.length > 60 ? 0 : 2 });
    });
    chart.data.datasets = datasets;
    (chart.options.plugins as { annotation: { annotations: object } }).annotation.annotations = markers;
    chart.options.plugins!.legend!.labels!.filter = (item) => !/ (min|max)$/.test(item.text);
    chart.update("none");
  });
  renderLatest();
  renderHeader();
}

function renderHeader(): void {
  header.replaceChildren();
  if (!run) return;
  const max = run.config?.grpo?.max_steps;
  const reward = run.config?.reward?.schedule ? `schedule ${String(run.config.reward.schedule).split(/[\\/]/).pop()}` : `preset ${run.config?.reward?.preset ?? "?"}`;
  header.append(
    el("h1", {}, `Run ${run.id}`),
    el("span", { class: `status status-${run.status}` }, `${run.status}${live && run.status === "running" ? " (live)" : ""}`),
    el("span", { class: "meta" }, `step ${run.step}${max ? ` of ${max}` : ""} · ${reward} · ${run.reward_versions.length} reward version${run.reward_versions.length === 1 ? "" : "s"}`),
  );
  if (run.source) {
    // Trained elsewhere: say by what and how it got here (run control is the engine's, so it is not offered).
    const how = { import: "imported from", follow: "followed from", live: "written live by Rollout Studio's callback in" }[run.source.mode ?? "import"];
    header.append(el("span", { class: "meta source" }, `${how} ${{ trl: "TRL", verl: "verl", jsonl: "a JSONL file" }[run.source.trainer]}: ${run.source.path}`));
  }
  const actions = el("div", { class: "actions" });
  const button = (label: string, message: DashboardToHost, secondary = true) => {
    const b = el("vscode-button", secondary ? { secondary: "" } : {}, label);
    b.addEventListener("click", () => send(message));
    actions.append(b);
  };
  button("Open Rollouts", { type: "openRollouts" }, false);
  if (run.config?.reward?.schedule) button("Edit Schedule", { type: "editSchedule" });
  if (live && run.status === "running") button("Pause", { type: "control", command: "pause" });
  if (live && run.status === "paused") button("Resume", { type: "control", command: "resume" });
  if (live) {
    button("Checkpoint Now", { type: "control", command: "checkpoint" });
    button("Stop", { type: "control", command: "stop" });
  }
  header.append(actions);
}

function renderLatest(): void {
  const last = metrics.slice(-5);
  latest.replaceChildren(
    el("caption", {}, metrics.length ? `Latest steps (${metrics.length} so far)` : "No steps yet: the first step's metrics appear here when it ends."),
  );
  if (!last.length) return;
  const head = el("tr", {});
  for (const h of ["step", "reward", "exact", "format", "parse failures", "reward version"]) head.append(el("th", { scope: "col" }, h));
  latest.append(head);
  const versions = Object.entries(run?.reward_version_steps ?? {}).sort((a, b) => a[1] - b[1]);
  for (const m of last) {
    const version = [...versions].reverse().find(([, s]) => s <= m.step)?.[0] ?? "";
    const row = el("tr", { class: "step-row", "data-step": String(m.step) });
    for (const v of [String(m.step), m.reward.mean.toFixed(3), `${(m.exact_match_rate * 100).toFixed(1)}%`, `${(m.format_pass_rate * 100).toFixed(1)}%`, `${(m.parse_failure_rate * 100).toFixed(1)}%`, version.slice(0, 12)]) {
      row.append(el("td", {}, v));
    }
    row.tabIndex = 0;
    row.title = `Open the rollouts of step ${m.step}`;
    const open = () => send({ type: "openRollouts", step: m.step });
    row.addEventListener("click", open);
    row.addEventListener("keydown", (e) => (e as KeyboardEvent).key === "Enter" && open());
    latest.append(row);
  }
}

function renderEvals(): void {
  evalBox.replaceChildren();
  if (!evals.length) return;
  evalBox.append(el("h2", {}, "Evaluations (greedy, strict accuracy)"));
  const splits = [...new Set(evals.map((e) => e.split))];
  const steps = [...new Set(evals.map((e) => e.step))].sort((a, b) => a - b);
  const table = el("table", { class: "eval-table" });
  const head = el("tr", {}, el("th", {}, "step"));
  for (const s of splits) head.append(el("th", { scope: "col" }, s));
  table.append(head);
  for (const step of steps) {
    const row = el("tr", {}, el("td", {}, String(step)));
    for (const s of splits) {
      const e = evals.find((x) => x.step === step && x.split === s);
      row.append(el("td", {}, e ? `${(e.strict_accuracy * 100).toFixed(1)}%` : ""));
    }
    table.append(row);
  }
  evalBox.append(table);
}

window.addEventListener("message", (event: MessageEvent) => {
  const message = event.data as HostToDashboard;
  switch (message?.type) {
    case "starting":
      vscode.setState({ runDir: message.runDir });
      header.replaceChildren(
        el("h1", {}, "Starting the run…"),
        el("span", { class: "meta" }, "The engine is loading (the first run also builds the tiny base model: about 3 minutes on 2 cores). Its log is in the Rollout Studio output channel."),
      );
      break;
    case "run":
      run = message.run;
      live = message.live;
      vscode.setState({ runDir: message.runDir });
      render();
      break;
    case "metrics":
      if (message.reset) metrics.length = 0;
      metrics.push(...message.rows);
      render();
      break;
    case "evals":
      evals = message.rows;
      renderEvals();
      break;
    case "failures":
      if (message.reset) failures.length = 0;
      failures.push(...message.rows);
      renderFailures();
      break;
    case "monitors":
      if (message.reset) monitorSteps.length = 0;
      monitorSteps.push(...message.steps);
      renderMonitors();
      break;
    case "notice":
      notice(notices, message.notice);
      break;
  }
});

send({ type: "ready" });
