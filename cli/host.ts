// rollout-studio host: the reward host the engine scores through (docs/reward-host-protocol.md).

import { parseArgs } from "node:util";
import { runHost } from "../reward/host/host";
import { numberFlag, SOURCE_FLAGS, sourceFrom, UsageError } from "./flags";

export async function host(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...SOURCE_FLAGS,
      watch: { type: "boolean", default: false },
      "batch-timeout-ms": { type: "string" },
      "memory-mb": { type: "string" },
      workers: { type: "string" },
    },
    strict: true,
  });
  const source = sourceFrom(values);
  const limits: { batchTimeoutMs?: number; memoryMb?: number } = {};
  const timeout = numberFlag("batch-timeout-ms", values["batch-timeout-ms"]);
  const memory = numberFlag("memory-mb", values["memory-mb"]);
  if (timeout !== undefined) limits.batchTimeoutMs = timeout;
  if (memory !== undefined) limits.memoryMb = memory;
  const workers = numberFlag("workers", values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) throw new UsageError(`--workers must be a whole number of at least 1, got ${values.workers}`);
  return runHost({ source, limits, watch: values.watch ?? false, ...(workers !== undefined ? { workers } : {}) });
}
