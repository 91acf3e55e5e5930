// The engine's events as lines a person reads in a terminal: one line per step (reward, strict
// accuracy, format rate, elapsed and remaining time) and a summary at the end.

import type { EvalResult, FinishedEvent } from "../contract/types";
import type { EngineEvent } from "./engine";

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

const num = (value: number, digits = 3): string => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const pct = (value: number): string => (Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : "n/a");

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
        return `Building the tiny base model (first run only; a few minutes on 2 cores): ${e.dir}`;
      case "pretrain":
        return `  base model step ${e.step}  loss ${num(e.loss)}  ${duration(e.elapsed_s)}`;
      case "started":
        this.maxSteps = e.max_steps;
        return `Run ${e.run_id} → ${e.run_dir}\n  policy ${e.params.toLocaleString("en")} parameters, ${e.train_samples} training prompts${e.first_step > 1 ? `, resuming at step ${e.first_step}` : ""}`;
      case "step": {
        const of = this.maxSteps ? `/${this.maxSteps}` : "";
        return `step ${String(e.step).padStart(4)}${of}  reward ${num(e.reward).padStart(7)}  strict ${pct(e.exact).padStart(6)}  format ${pct(e.format).padStart(6)}  elapsed ${duration(e.elapsed_s)}  remaining ${duration(e.remaining_s)}`;
      }
      case "eval": {
        if (!this.firstEval.has(e.split)) this.firstEval.set(e.split, e);
        return `  eval at step ${e.step} on ${e.split} (${e.samples} prompts): strict accuracy ${pct(e.strict_accuracy)}, mean reward ${num(e.mean_reward)}`;
      }
      case "checkpoint":
        return `  checkpoint after step ${e.step}`;
      case "reward_reloaded":
        return `  reward schedule reloaded: version ${e.version}`;
      case "paused":
        return `  paused after step ${e.step}`;
      case "resumed":
        return `  resumed`;
      case "stopped":
        return `Stopped after step ${e.step} (checkpoint written).`;
      case "warning":
        return `warning: ${e.message}`;
      case "reward_log": {
        // The schedule's own output outside a sample (at load, from timers): shown as the schedule wrote it.
        const where = e.during === "load" ? "while loading" : e.during === "late" ? `after sample ${e.sample ?? "?"} was scored` : "between samples";
        return `  reward schedule ${e.stream} (${where}${e.error ? ", an error" : ""}): ${e.text.replace(/\n+$/, "")}`;
      }
      case "reward_reload_rejected":
        return `reward reload rejected (the previous version goes on scoring): ${e.message}`;
      case "error":
        return `error: ${e.message}`;
      case "finished":
        return this.summary(e);
      default:
        return null; // an event of a newer engine
    }
  }

  private summary(e: FinishedEvent): string {
    const lines = [`Finished: ${e.steps} steps in ${duration(e.seconds)} (${duration(e.train_seconds)} training).`];
    if (e.eval.length) {
      lines.push("  split                    strict accuracy (greedy, first → last)   mean reward");
      for (const r of e.eval) {
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
