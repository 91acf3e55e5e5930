// The rollout-studio command line: reads the subcommand and hands the rest of the arguments to its
// file in cli/. bin/rollout-studio.cjs calls main(argv) of the built dist/cli.cjs.

import { readFileSync } from "node:fs";
import path from "node:path";
import { PRESETS } from "../reward/presets";
import { OptionError } from "../reward/presets/options";
import { CompileError } from "../reward/host/compile";
import { LoadError } from "../reward/host/runner";
import { ControlError } from "../runs/control";
import { RunDirError } from "../runs/runDir";
import { checkCommand } from "./check";
import { debugSample } from "./debugSample";
import { demo } from "./demo";
import { demoRewards } from "./demoRewards";
import { UsageError } from "./flags";
import { exportPolicy, importRun } from "./engineModules";
import { host } from "./host";
import { monitorsCommand } from "./monitors";
import { presets } from "./presets";
import { pushCommand } from "./push";
import { replayCommand } from "./replay";
import { score } from "./score";
import { testRewards } from "./testRewards";
import { train } from "./train";

const USAGE = `rollout-studio — reward design for tool-calling RL

Usage:
  rollout-studio score --preset NAME [--option key=value ...] [--step N] [--progress F] [--explain] < samples.jsonl
  rollout-studio score --schedule path/to/schedule.ts [--step N] [--explain] < samples.jsonl
  rollout-studio host (--preset NAME [--option key=value ...] | --schedule FILE [--watch]) [--workers N] [--batch-timeout-ms N] [--memory-mb N]
  rollout-studio train --config run.toml [--run-dir DIR [--resume]] [--format text|json]
  rollout-studio test-rewards [FILE.reward-cases.jsonl ...] [--preset NAME [--option key=value ...] | --schedule FILE] [--format text|json]
  rollout-studio replay --run DIR [--steps all|3|2-5|last:N] [--before stored|version:HASH|schedule:FILE|preset:NAME] --after SPEC [--top N] [--samples-out FILE] [--format text|json]
  rollout-studio check --schedule FILE [--run DIR] [--samples N] [--slow-ms N] [--format text|json]
  rollout-studio push --run DIR (--schedule FILE | --version HASH)
  rollout-studio debug-sample --schedule FILE --sample SAMPLE.json   (run under a debugger: see docs/debugging.md)
  rollout-studio monitors --run DIR [--monitors FILE.monitors.ts ...] [--from-step N] [--format text|json]
  rollout-studio import SOURCE --out DIR [--format trl|verl|jsonl] [--preset NAME [--option key=value ...] | --schedule FILE] [--dataset FILE]
  rollout-studio follow-verl DUMP_DIR --out DIR [--metrics FILE] [--preset NAME | --schedule FILE] [--idle-exit-s S]
  rollout-studio export (--run DIR [--step N] | --base FOLDER) [--out FOLDER]   a checkpoint (tiny or hf) as ONNX for the playground (docs/playground.md)
  rollout-studio presets
  rollout-studio demo            GRPO on the demo dataset from the tiny base (demo/run.toml), on CPU
  rollout-studio demo-rewards    each preset's scores on the bundled example rollouts

score reads JSON Lines {"id", "completion", "ground_truth", "step"?} and writes, in input order,
{"id", "reward", "components": {name: value}, "failure"?, "parse_failure"?, "version", "logs"?}
("logs": what a schedule file printed while scoring that line; output outside any line goes to stderr).
The exit code is 1 when any line failed (bad input or a reward failure), 2 for a usage error.

test-rewards checks reward test cases (docs/reward-cases.md): every *.reward-cases.jsonl under the
current folder when no file is named. It prints a line per case and "N passed, M failed"; the exit code
is 1 when any case fails or a case line is not a case.

replay scores a run's stored rollouts with two reward versions ("stored": the scores the run recorded)
and reports what changes: samples, components, GRPO group advantages and variance, distributions.

check runs a schedule twice on stored samples of a run (the newest steps) and reports exceptions,
non-finite values, values outside declared ranges, non-determinism and slow samples; exit 1 when a
problem blocks the version (slow samples only warn). The reward host checks every hot reload the same way.

push asks the engine running a run to score with a schedule file or a version the run recorded
(rollback); the engine switches at the next step if the version passes its check. It takes schedule
files only from the run directory, the run configuration's folder, the configured schedule's folder and
the workspace holding .rollout-studio/runs (docs/run-directory.md, "Run control").

import writes another trainer's finished run as a Rollout Studio run directory (docs/importing.md):
TRL's completions folder, verl's rollout dumps, or a JSONL of samples; every sample is scored again by
the chosen reward (default preset tool-n1), the trainer's own reward kept beside it. follow-verl does
the same while a verl run writes its dumps.

Presets: ${Object.keys(PRESETS).join(", ")} (see \`rollout-studio presets\` for their options).`;

export async function main(argv: string[]): Promise<number> {
  // A reader that stops early (`| head`) is not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "score":
        return await score(rest);
      case "host":
        return await host(rest);
      case "train":
        return await train(rest);
      case "test-rewards":
        return await testRewards(rest);
      case "replay":
        return await replayCommand(rest);
      case "check":
        return await checkCommand(rest);
      case "push":
        return await pushCommand(rest);
      case "debug-sample":
        return await debugSample(rest);
      case "monitors":
        return await monitorsCommand(rest);
      case "import":
        return await importRun("import", rest);
      case "follow-verl":
        return await importRun("follow-verl", rest);
      case "export":
        return await exportPolicy(rest);
      case "presets":
        return presets();
      case "demo":
        return await demo(rest);
      case "demo-rewards":
        return await demoRewards(rest);
      case "version":
        process.stdout.write(JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).version + "\n");
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE + "\n");
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof OptionError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`rollout-studio: ${(err as Error).message}\nRun \`rollout-studio help\` for usage.\n`);
      return 2;
    }
    // No engine running the run (push): one line that says which run and how to start one.
    if (err instanceof CompileError || err instanceof LoadError || err instanceof RunDirError || err instanceof ControlError) {
      process.stderr.write(`rollout-studio: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`rollout-studio: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
