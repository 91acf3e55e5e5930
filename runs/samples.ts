// The explorer's index of samples: a small row per sample for the table (filter, sort, search) and where
// its full record lies on disk, read again only when a sample's detail is opened. No VS Code dependency.

import fs from "node:fs";

import { exactCallsMatch } from "../reward/match";
import type { ToolCall as RewardToolCall } from "../reward/parse";
import type { SampleDetail, SampleRow } from "../webview/protocol";
import { recordProblem, type TrajectoryRecord } from "./records";
import type { BadLine } from "./runDir";

function isExact(record: TrajectoryRecord): boolean {
  if (!record.calls) return false;
  return exactCallsMatch(record.calls as RewardToolCall[], record.ground_truth as RewardToolCall[]);
}

function requestText(record: TrajectoryRecord): string {
  const user = [...(record.prompt?.messages ?? [])].reverse().find((m) => m.role === "user");
  return `${user?.content ?? ""}\n${record.completion.slice(0, 300)}`;
}

/** A table row for one record; group_outcome is filled in once the whole group is known. */
export function toRow(r: TrajectoryRecord, index: number): SampleRow {
  const components: Record<string, number> = {};
  for (const [name, c] of Object.entries(r.components ?? {})) components[name] = c.value;
  return {
    index,
    step: r.step,
    group: r.group,
    sample: r.sample,
    prompt_id: r.prompt_id,
    reward: r.reward,
    advantage: r.advantage,
    components,
    parse_failure: r.parse_failure?.reason ?? null,
    reward_version: r.reward_version,
    group_outcome: "mixed",
    exact: isExact(r),
    failure: r.failure ? `${r.failure.kind}: ${r.failure.message}` : null,
    completion_tokens: r.completion_tokens,
    text: requestText(r),
  };
}

interface Location {
  file: string;
  start: number;
  length: number;
}

export class SampleIndex {
  readonly rows: SampleRow[] = [];
  readonly bad: BadLine[] = [];
  readonly components = new Set<string>();
  readonly steps = new Set<number>();
  private readonly locations: Location[] = [];

  /** Reads a rollout file; bad lines are kept in `bad` with their line numbers, the rest indexed. */
  addFile(file: string): void {
    const data = fs.readFileSync(file);
    let start = 0;
    let line = 0;
    const first = this.rows.length;
    while (start < data.length) {
      let end = data.indexOf(10, start);
      const truncated = end < 0;
      if (truncated) end = data.length;
      line++;
      const text = data.subarray(start, end).toString("utf8");
      if (text.trim()) {
        let record: unknown;
        let problem: string | null = null;
        try {
          record = JSON.parse(text);
          problem = recordProblem(record);
        } catch (e) {
          problem = truncated ? "the last line is cut off (the engine was stopped while writing it)" : `not valid JSON (${(e as Error).message})`;
        }
        if (problem) this.bad.push({ file, line, error: problem });
        else {
          const r = record as TrajectoryRecord;
          this.rows.push(toRow(r, this.rows.length));
          this.locations.push({ file, start, length: end - start });
          for (const name of Object.keys(r.components ?? {})) this.components.add(name);
          this.steps.add(r.step);
        }
      }
      start = end + 1;
    }
    this.markGroups(first);
  }

  private markGroups(from: number): void {
    const groups = new Map<string, SampleRow[]>();
    for (let i = from; i < this.rows.length; i++) {
      const row = this.rows[i] as SampleRow;
      const key = `${row.step}/${row.group}`;
      const list = groups.get(key) ?? [];
      list.push(row);
      groups.set(key, list);
    }
    for (const list of groups.values()) {
      const outcome = list.every((r) => r.exact) ? "all-right" : list.some((r) => r.exact) ? "mixed" : "all-wrong";
      for (const r of list) r.group_outcome = outcome;
    }
  }

  record(index: number): TrajectoryRecord {
    const at = this.locations[index];
    if (!at) throw new RangeError(`no sample ${index}`);
    const fd = fs.openSync(at.file, "r");
    try {
      const buffer = Buffer.alloc(at.length);
      fs.readSync(fd, buffer, 0, at.length, at.start);
      return JSON.parse(buffer.toString("utf8")) as TrajectoryRecord;
    } finally {
      fs.closeSync(fd);
    }
  }

  detail(index: number): SampleDetail {
    const r = this.record(index);
    const row = this.rows[index] as SampleRow;
    const siblings = this.rows.filter((other) => other.step === row.step && other.group === row.group);
    return {
      index,
      step: r.step,
      group: r.group,
      sample: r.sample,
      prompt_id: r.prompt_id,
      messages: r.prompt?.messages ?? [],
      tools: r.prompt?.tools ?? [],
      completion: r.completion,
      calls: r.calls,
      parse_failure: r.parse_failure,
      ground_truth: r.ground_truth,
      reward: r.reward,
      components: r.components ?? {},
      failure: r.failure,
      advantage: r.advantage,
      reward_version: r.reward_version,
      finish_reason: r.finish_reason,
      siblings,
    };
  }
}
