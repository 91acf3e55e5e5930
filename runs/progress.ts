// The engine's events as lines a person reads in a terminal: one line per step (reward, strict
// accuracy, format rate, elapsed and remaining time) and a summary at the end.

import type { EngineEvent } from "./engine";

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

const num = (value: unknown, digits = 3): string => (typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const pct = (value: unknown): string => (typeof value === "number" && Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : "n/a");

interface EvalResult {
  split: string;
  step: number;
  samples: number;
  strict_accuracy: number;
  mean_reward: number;
}

/** Keeps what the summary needs (the first and last evaluation of each split) across events. */
export class ProgressPrinter {
  private readonly firstEval = new Map<string, EvalResult>();

  constructor(private readonly write: (line: string) => void, private maxSteps = 0) {}

  handle(e: EngineEvent): void {
    const line = this.format(e);
    if (line !== null) this.write(line);
  }

  format(e: EngineEvent): string | null {
    switch (e.event) {
      case "pretrain_started":
        return `Building the tiny base model (first run only; a few minutes on 2 cores): ${String(e.dir)}`;
      case "pretrain":
        return `  base model step ${String(e.step)}  loss ${num(e.loss)}  ${duration(Number(e.elapsed_s))}`;
      case "started":
        if (typeof e.max_steps === "number") this.maxSteps = e.max_steps;
        return `Run ${String(e.run_id)} → ${String(e.run_dir)}\n  policy ${Number(e.params).toLocaleString("en")} parameters, ${String(e.train_samples)} training prompts${Number(e.first_step) > 1 ? `, resuming at step ${String(e.first_step)}` : ""}`;
      case "step": {
        const of = this.maxSteps ? `/${this.maxSteps}` : "";
        return `step ${String(e.step).padStart(4)}${of}  reward ${num(e.reward).padStart(7)}  strict ${pct(e.exact).padStart(6)}  format ${pct(e.format).padStart(6)}  elapsed ${duration(Number(e.elapsed_s))}  remaining ${duration(Number(e.remaining_s))}`;
      }
      case "eval": {
        const result = e as unknown as EvalResult;
        if (!this.firstEval.has(result.split)) this.firstEval.set(result.split, result);
        return `  eval at step ${result.step} on ${result.split} (${result.samples} prompts): strict accuracy ${pct(result.strict_accuracy)}, mean reward ${num(result.mean_reward)}`;
      }
      case "checkpoint":
        return `  checkpoint after step ${String(e.step)}`;
      case "reward_reloaded":
        return `  reward schedule reloaded: version ${String(e.version)}`;
      case "paused":
        return `  paused after step ${String(e.step)}`;
      case "resumed":
        return `  resumed`;
      case "stopped":
        return `Stopped after step ${String(e.step)} (checkpoint written).`;
      case "warning":
        return `warning: ${String(e.message)}`;
      case "reward_log": {
        // The schedule's own output outside a sample (at load, from timers): shown as the schedule wrote it.
        const where = e.during === "load" ? "while loading" : e.during === "late" ? `after sample ${String(e.sample ?? "?")} was scored` : "between samples";
        return `  reward schedule ${String(e.stream ?? "stdout")} (${where}${e.error ? ", an error" : ""}): ${String(e.text ?? "").replace(/\n+$/, "")}`;
      }
      case "reward_reload_rejected":
        return `reward reload rejected (the previous version goes on scoring): ${String(e.message)}`;
      case "error":
        return `error: ${String(e.message)}`;
      case "finished":
        return this.summary(e);
      default:
        return null;
    }
  }

  private summary(e: EngineEvent): string {
    const lines = [`Finished: ${String(e.steps)} steps in ${duration(Number(e.seconds))}${typeof e.train_seconds === "number" ? ` (${duration(e.train_seconds)} training)` : ""}.`];
    const results = Array.isArray(e.eval) ? (e.eval as EvalResult[]) : [];
    if (results.length) {
      lines.push("  split                    strict accuracy (greedy, first → last)   mean reward");
      for (const r of results) {
        const first = this.firstEval.get(r.split);
        const moved = first !== undefined && first.step !== r.step;
        // The change in points is what says whether the run learned: a rising reward alone does not.
        const points = moved ? Math.round(100 * (r.strict_accuracy - first.strict_accuracy)) : 0;
        const accuracy = moved ? `${pct(first.strict_accuracy)} → ${pct(r.strict_accuracy)} (${points >= 0 ? "+" : ""}${points} points)` : pct(r.strict_accuracy);
        const reward = moved ? `${num(first.mean_reward)} → ${num(r.mean_reward)}` : num(r.mean_reward);
        lines.push(`  ${r.split.padEnd(24)} ${accuracy.padEnd(40)} ${reward}`);
      }
    }
    return lines.join("\n");
  }
}
