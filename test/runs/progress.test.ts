// The engine's events as the CLI shows them: event lines told apart from plain output, a line per
// step with the figures a person watches, and a summary that compares the first and last evaluation.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { engineCommand, launchDetached, parseEvent, type EngineEvent } from "../../runs/engine";
import { duration, ProgressPrinter } from "../../runs/progress";

describe("engine events", () => {
  it("reads event lines and leaves every other line alone", () => {
    assert.deepEqual(parseEvent('{"event": "step", "step": 3}'), { event: "step", step: 3 });
    assert.equal(parseEvent("Traceback (most recent call last):"), null);
    assert.equal(parseEvent('{"no_event": 1}'), null);
    assert.equal(parseEvent("{broken"), null);
  });
  it("runs the engine module with engine/ on PYTHONPATH, resolving paths", () => {
    const c = engineCommand({ root: "/repo", config: "/work/run.toml", runDir: "/work/runs/a", resume: true, env: { PYTHONPATH: "/x" } });
    assert.equal(c.command, "bash");
    assert.deepEqual(c.args, ["/repo/scripts/python.sh", "-m", "rollout_engine.train", "--config", "/work/run.toml", "--run-dir", "/work/runs/a", "--resume"]);
    assert.equal(c.env.PYTHONPATH, "/repo/engine:/x");
  });
  it("runs a given Python directly (the extension's choice), and a detached engine writes its log", async () => {
    const c = engineCommand({ root: "/repo", config: "run.toml", python: "/opt/py/bin/python3", env: {} });
    assert.equal(c.command, "/opt/py/bin/python3");
    assert.deepEqual(c.args.slice(0, 3), ["-m", "rollout_engine.train", "--config"]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-engine-"));
    const fake = path.join(dir, "python");
    fs.writeFileSync(fake, '#!/bin/sh\necho \'{"event": "started", "args": "\'"$*"\'"}\'\n', { mode: 0o755 });
    const log = path.join(dir, "run", "engine.log");
    const pid = launchDetached({ root: dir, config: "run.toml", python: fake }, log);
    assert.ok(pid > 0);
    for (let i = 0; i < 50 && !fs.existsSync(log); i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 50 && !fs.readFileSync(log, "utf8").includes("\n"); i++) await new Promise((r) => setTimeout(r, 50));
    const event = parseEvent(fs.readFileSync(log, "utf8").trim());
    assert.equal(event?.event, "started");
    assert.match(String((event as { args?: unknown } | null)?.args), /-m rollout_engine.train --config .*run\.toml/);
  });
});

describe("progress lines", () => {
  it("writes durations as a person reads them", () => {
    assert.deepEqual([duration(5), duration(65), duration(3725), duration(NaN)], ["5s", "1m05s", "1h02m", "?"]);
  });
  it("shows each step's reward, strict accuracy, format rate, elapsed and remaining time", () => {
    const lines: string[] = [];
    const p = new ProgressPrinter((l) => lines.push(l));
    p.handle({ event: "started", run_id: "r1", run_dir: "/runs/r1", max_steps: 40, time_limit_s: 0, params: 611840, train_samples: 3000, base: "/base", first_step: 1 });
    p.handle({ event: "step", step: 7, reward: 0.51234, exact: 0.125, format: 0.953, elapsed_s: 62, remaining_s: 130 });
    assert.match(lines[0]!, /Run r1 → \/runs\/r1/);
    assert.match(lines[0]!, /611,840 parameters, 3000 training prompts/);
    assert.equal(lines[1], "step    7/40  reward   0.512  strict  12.5%  format  95.3%  elapsed 1m02s  remaining 2m10s");
  });
  it("ends with a summary from the first to the last evaluation of each split", () => {
    const lines: string[] = [];
    const p = new ProgressPrinter((l) => lines.push(l));
    p.handle({ event: "eval", split: "eval-unseen-values", step: 0, samples: 64, strict_accuracy: 0.02, mean_reward: 0.1 });
    p.handle({ event: "eval", split: "eval-unseen-values", step: 50, samples: 64, strict_accuracy: 0.5, mean_reward: 1.2 });
    p.handle({ event: "finished", steps: 50, seconds: 610, train_seconds: 590, eval: [{ split: "eval-unseen-values", step: 50, samples: 64, strict_accuracy: 0.5, mean_reward: 1.2 }] });
    const summary = lines.at(-1)!;
    assert.match(summary, /^Finished: 50 steps in 10m10s \(9m50s training\)\./);
    assert.match(summary, /eval-unseen-values\s+2\.0% → 50\.0% \(\+48 points\)\s+0\.100 → 1\.200/);
  });
  it("shows warnings and errors, and says nothing for events it does not know", () => {
    const lines: string[] = [];
    const p = new ProgressPrinter((l) => lines.push(l));
    p.handle({ event: "warning", message: "slow reward" });
    p.handle({ event: "error", message: "bad config" });
    p.handle({ event: "samples_written", step: 1 } as unknown as EngineEvent); // an event of a newer engine
    p.handle({ event: "reward_log", step: 3, version: "v1", stream: "stdout", during: "load", text: "loading my reward\n" });
    p.handle({ event: "reward_log", step: 4, version: "v1", stream: "stderr", during: "late", sample: "train-7#2", error: true, text: "Error: too late" });
    assert.deepEqual(lines, [
      "warning: slow reward",
      "error: bad config",
      "  reward schedule stdout (while loading): loading my reward",
      "  reward schedule stderr (after sample train-7#2 was scored, an error): Error: too late",
    ]);
  });
});
