// rollout-studio push: asks the engine running a run to score with a schedule file or a recorded version.

import path from "node:path";
import { parseArgs } from "node:util";
import type { ScheduleSource } from "../reward/host/runner";
import { rewardCommand, sendControl } from "../runs/control";
import { readRunInfo } from "../runs/runDir";
import { sourceFor } from "../runs/stored";
import { UsageError } from "./flags";

export async function pushCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { run: { type: "string" }, schedule: { type: "string" }, version: { type: "string" } }, strict: true });
  if (!values.run) throw new UsageError("push needs --run DIR, the live run");
  if (!values.schedule === !values.version) throw new UsageError("push needs one of --schedule FILE or --version HASH (a version the run recorded: rollback)");
  const runDir = path.resolve(values.run);
  const info = readRunInfo(runDir);
  const source = sourceFor(runDir, info, values.version ? { kind: "version", version: values.version } : { kind: "schedule", path: path.resolve(values.schedule as string) }) as ScheduleSource;
  const answer = await sendControl(runDir, rewardCommand(source), 15 * 60_000);
  process.stdout.write(JSON.stringify(answer) + "\n");
  return answer.ok && answer.accepted ? 0 : 1;
}
