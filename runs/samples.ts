// The explorer's store of samples: one column per field in typed arrays (a few dozen bytes a sample, so a
// million fit in well under 100 MB), filtered and sorted here in the host, with each sample's full record
// read back from disk only when its detail opens. It reads a run's compact index (index/step-*.jsonl)
// when there is one, and the rollout files themselves otherwise. No VS Code dependency.

import fs from "node:fs";

import { exactCallsMatch } from "../reward/match";
import type { ToolCall as RewardToolCall } from "../reward/parse";
import { recordProblem, type IndexRow, type TrajectoryRecord } from "./records";
import type { BadLine } from "./runDir";

/** One sample as the explorer's table shows it: small, so a million fit in memory. */
export interface SampleRow {
  /** Index in the host's list for this view: the key for detail requests. */
  index: number;
  step: number;
  group: number;
  sample: number;
  prompt_id: string;
  reward: number | null;
  advantage: number;
  /** Component values (weighted), by name. */
  components: Record<string, number>;
  parse_failure: string | null;
  reward_version: string;
  /** all-right / all-wrong / mixed, by exact match within the GRPO group. */
  group_outcome: "all-right" | "all-wrong" | "mixed";
  exact: boolean;
  failure: string | null;
  completion_tokens: number;
  /** The request's text and the start of the completion, for text search. */
  text: string;
}

export interface SampleDetail
  extends Pick<TrajectoryRecord, "step" | "group" | "sample" | "prompt_id" | "completion" | "calls" | "parse_failure" | "ground_truth" | "reward" | "components" | "failure" | "advantage" | "reward_version" | "finish_reason" | "reward_logs" | "source_reward"> {
  index: number;
  messages: { role: string; content: string }[];
  tools: unknown[];
  /** The G siblings of this sample in its group, for the group view. */
  siblings: SampleRow[];
}

/** The explorer's filters and sort, applied over all samples by SampleStore.query below. */
export interface Query {
  /** Searches the requests and prompt ids. */
  text?: string;
  step?: number;
  prompt_id?: string;
  /** A parse-failure reason, "none" (parsed) or "any" (failed for any reason). */
  parse_failure?: string;
  group_outcome?: SampleRow["group_outcome"];
  reward_version?: string;
  exact?: boolean;
  reward_failure?: boolean;
  /** "reward", "advantage", "completion_tokens", "component:<name>"; none: step order. */
  sort?: string;
  /** Default true: high first. */
  descending?: boolean;
}

/** A growable typed array. */
class Column<T extends Float64Array | Float32Array | Int32Array | Uint8Array> {
  data: T;
  constructor(private readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  set(i: number, value: number): void {
    if (i >= this.data.length) {
      const bigger = this.make(Math.max(i + 1, this.data.length * 2));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[i] = value;
  }
}

const f64 = () => new Column((n) => new Float64Array(n));
const f32 = () => new Column((n) => new Float32Array(n));
const i32 = () => new Column((n) => new Int32Array(n));
const u8 = () => new Column((n) => new Uint8Array(n));

/** A table of distinct strings, each stored once and referred to by number. */
class Strings {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  id(value: string): number {
    let id = this.index.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.index.set(value, id);
    }
    return id;
  }
}

const OUTCOMES: SampleRow["group_outcome"][] = ["all-wrong", "mixed", "all-right"];

const float = new Float32Array(1);
const bits = new Uint32Array(float.buffer);
const INDEX_BITS = 2 ** 21;

/** A float's float32 bits as an unsigned integer in the float's own order. */
function orderable(x: number): number {
  float[0] = x;
  const b = bits[0] as number;
  return b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
}

/**
 * Rows ordered by key (failures, NaN, last either way; ties by row). Each row becomes one float64 —
 * its key's 32 orderable bits above its 21-bit row number — so the sort is the typed array's own numeric
 * sort, several times faster than a comparator over a million rows. Keys compare at float32 precision.
 * Past 2^21 rows it falls back to a comparator.
 */
export function sortRows(rows: Int32Array, keys: ArrayLike<number>, descending: boolean): Int32Array {
  if (rows.length === 0 || rows[rows.length - 1]! >= INDEX_BITS) {
    const sign = descending ? -1 : 1;
    return rows.sort((a, b) => {
      const x = keys[a] as number;
      const y = keys[b] as number;
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? a - b : 1) : -1;
      return sign * (x - y) || a - b;
    });
  }
  const packed = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k] as number;
    const x = keys[i] as number;
    const key = Number.isNaN(x) ? 0xffffffff : descending ? 0xfffffffe - orderable(x) : orderable(x);
    packed[k] = key * INDEX_BITS + i;
  }
  packed.sort();
  const out = new Int32Array(rows.length);
  for (let k = 0; k < packed.length; k++) out[k] = (packed[k] as number) % INDEX_BITS;
  return out;
}

/** The fields of a sample as the index (or a record) gives them: an index row (contract/run-directory.schema.json) and its rollout file. */
type Entry = Omit<IndexRow, "exact" | "parse_failure"> & { exact: boolean; parse_failure: string | null; file: string };

function userRequest(record: TrajectoryRecord): string {
  return [...(record.prompt?.messages ?? [])].reverse().find((m) => m.role === "user")?.content ?? "";
}

export class SampleStore {
  size = 0;
  readonly bad: BadLine[] = [];
  readonly steps = new Set<number>();
  private readonly step = i32();
  private readonly group = i32();
  private readonly sample = i32();
  private readonly reward = f64(); // NaN: a reward failure
  private readonly advantage = f32();
  private readonly exact = u8();
  private readonly outcome = u8();
  private readonly reason = i32(); // -1: parsed
  private readonly version = i32();
  private readonly failed = u8();
  private readonly tokens = i32();
  private readonly prompt = i32();
  private readonly file = i32();
  private readonly offset = f64();
  private readonly length = i32();
  private readonly componentColumns = new Map<string, Column<Float32Array>>();
  private readonly failures = new Map<number, string>();
  private readonly files = new Strings();
  private readonly prompts = new Strings();
  private readonly requests: string[] = []; // by prompt, lower-cased for search
  readonly reasons = new Strings();
  readonly versions = new Strings();

  get components(): string[] {
    return [...this.componentColumns.keys()];
  }

  private add(e: Entry): void {
    const i = this.size++;
    this.step.set(i, e.step);
    this.group.set(i, e.group);
    this.sample.set(i, e.sample);
    this.reward.set(i, e.reward === null ? NaN : e.reward);
    this.advantage.set(i, e.advantage);
    this.exact.set(i, e.exact ? 1 : 0);
    this.reason.set(i, e.parse_failure === null ? -1 : this.reasons.id(e.parse_failure));
    this.version.set(i, this.versions.id(e.reward_version));
    this.failed.set(i, e.failure === null ? 0 : 1);
    if (e.failure !== null) this.failures.set(i, e.failure);
    this.tokens.set(i, e.completion_tokens);
    const p = this.prompts.id(e.prompt_id);
    if (p === this.requests.length) this.requests.push(`${e.prompt_id}\n${e.request}`.toLowerCase());
    this.prompt.set(i, p);
    this.file.set(i, this.files.id(e.file));
    this.offset.set(i, e.offset);
    this.length.set(i, e.length);
    for (const [name, value] of Object.entries(e.components)) {
      let column = this.componentColumns.get(name);
      if (!column) {
        column = f32();
        for (let k = 0; k < i; k++) column.set(k, NaN); // a component that appears later: absent before
        this.componentColumns.set(name, column);
      }
      column.set(i, value);
    }
    for (const [name, column] of this.componentColumns) if (!(name in e.components)) column.set(i, NaN);
    this.steps.add(e.step);
  }

  /** Reads lines of a file, calling `each` with a parsed value and its byte range; bad lines go to `bad`. */
  private lines(file: string, each: (value: unknown, start: number, length: number, line: number) => string | null): void {
    const data = fs.readFileSync(file);
    let start = 0;
    let line = 0;
    while (start < data.length) {
      let end = data.indexOf(10, start);
      const cut = end < 0;
      if (cut) end = data.length;
      line++;
      if (end > start) {
        let problem: string | null;
        try {
          problem = each(JSON.parse(data.toString("utf8", start, end)), start, end - start, line);
        } catch (e) {
          problem = cut ? "the last line is cut off (the engine was stopped while writing it)" : `not valid JSON (${(e as Error).message})`;
        }
        if (problem) this.bad.push({ file, line, error: problem });
      }
      start = end + 1;
    }
  }

  /** A step's compact index (index/step-N.jsonl), pointing into its rollout file. */
  addIndexFile(indexFile: string, rolloutFile: string): void {
    const first = this.size;
    this.lines(indexFile, (value) => {
      const e = value as IndexRow; // the index is the engine's: fields a reader needs are checked, the rest defaulted
      if (typeof e?.step !== "number" || typeof e.offset !== "number" || typeof e.length !== "number") return "not an index entry (step, offset and length are needed)";
      this.add({ ...e, components: e.components ?? {}, request: e.request ?? "", file: rolloutFile, exact: e.exact === true });
      return null;
    });
    this.markGroups(first);
  }

  /** A rollout file read record by record (a run without an index, or any JSONL of records). */
  addRolloutFile(file: string): void {
    const first = this.size;
    this.lines(file, (value, offset, length) => {
      const problem = recordProblem(value);
      if (problem) return problem;
      const r = value as TrajectoryRecord;
      const components: Record<string, number> = {};
      for (const [name, c] of Object.entries(r.components ?? {})) components[name] = c.value;
      this.add({
        step: r.step,
        group: r.group,
        sample: r.sample,
        prompt_id: r.prompt_id,
        request: userRequest(r).slice(0, 200),
        reward: r.reward,
        advantage: r.advantage ?? 0,
        components,
        parse_failure: r.parse_failure?.reason ?? null,
        reward_version: r.reward_version,
        exact: r.calls ? exactCallsMatch(r.calls as RewardToolCall[], r.ground_truth as RewardToolCall[]) : false,
        failure: r.failure ? `${r.failure.kind}: ${r.failure.message}` : null,
        completion_tokens: r.completion_tokens ?? 0,
        file,
        offset,
        length,
      });
      return null;
    });
    this.markGroups(first);
  }

  /** Group outcomes (all right, all wrong, mixed) over the rows added since `from`. */
  private markGroups(from: number): void {
    const groups = new Map<string, number[]>();
    for (let i = from; i < this.size; i++) {
      const key = `${this.step.data[i]}/${this.group.data[i]}`;
      const list = groups.get(key);
      if (list) list.push(i);
      else groups.set(key, [i]);
    }
    for (const rows of groups.values()) {
      const right = rows.reduce((n, i) => n + (this.exact.data[i] as number), 0);
      const outcome = right === rows.length ? 2 : right > 0 ? 1 : 0;
      for (const i of rows) this.outcome.set(i, outcome);
    }
  }

  row(i: number): SampleRow {
    if (i < 0 || i >= this.size) throw new RangeError(`no sample ${i}`);
    const components: Record<string, number> = {};
    for (const [name, column] of this.componentColumns) {
      const v = column.data[i] as number;
      if (!Number.isNaN(v)) components[name] = v;
    }
    const reward = this.reward.data[i] as number;
    const reason = this.reason.data[i] as number;
    return {
      index: i,
      step: this.step.data[i] as number,
      group: this.group.data[i] as number,
      sample: this.sample.data[i] as number,
      prompt_id: this.prompts.values[this.prompt.data[i] as number] as string,
      reward: Number.isNaN(reward) ? null : reward,
      advantage: this.advantage.data[i] as number,
      components,
      parse_failure: reason < 0 ? null : (this.reasons.values[reason] as string),
      reward_version: this.versions.values[this.version.data[i] as number] as string,
      group_outcome: OUTCOMES[this.outcome.data[i] as number] as SampleRow["group_outcome"],
      exact: this.exact.data[i] === 1,
      failure: this.failures.get(i) ?? null,
      completion_tokens: this.tokens.data[i] as number,
      text: (this.requests[this.prompt.data[i] as number] as string).split("\n").slice(1).join("\n"),
    };
  }

  /** The rows that pass the query, in its order. */
  query(q: Query): Int32Array {
    const n = this.size;
    const step = this.step.data;
    const keep = new Uint8Array(n).fill(1);
    const filter = (test: (i: number) => boolean) => {
      for (let i = 0; i < n; i++) if (keep[i] && !test(i)) keep[i] = 0;
    };
    if (q.step !== undefined) filter((i) => step[i] === q.step);
    if (q.prompt_id !== undefined) {
      const p = this.prompts.values.indexOf(q.prompt_id);
      filter((i) => this.prompt.data[i] === p);
    }
    if (q.parse_failure !== undefined) {
      const reason = this.reason.data;
      if (q.parse_failure === "none") filter((i) => (reason[i] as number) < 0);
      else if (q.parse_failure === "any") filter((i) => (reason[i] as number) >= 0);
      else {
        const id = this.reasons.values.indexOf(q.parse_failure);
        filter((i) => reason[i] === id);
      }
    }
    if (q.group_outcome !== undefined) {
      const o = OUTCOMES.indexOf(q.group_outcome);
      filter((i) => this.outcome.data[i] === o);
    }
    if (q.reward_version !== undefined) {
      const v = this.versions.values.indexOf(q.reward_version);
      filter((i) => this.version.data[i] === v);
    }
    if (q.exact !== undefined) filter((i) => (this.exact.data[i] === 1) === q.exact);
    if (q.reward_failure !== undefined) filter((i) => (this.failed.data[i] === 1) === q.reward_failure);
    const text = q.text?.trim().toLowerCase();
    if (text) {
      const match = new Uint8Array(this.requests.length);
      this.requests.forEach((r, p) => (match[p] = r.includes(text) ? 1 : 0));
      filter((i) => match[this.prompt.data[i] as number] === 1);
    }
    let count = 0;
    for (let i = 0; i < n; i++) count += keep[i] as number;
    const out = new Int32Array(count);
    for (let i = 0, k = 0; i < n; i++) if (keep[i]) out[k++] = i;
    if (!q.sort) return out;
    return sortRows(out, this.sortKeys(q.sort), q.descending !== false);
  }

  private sortKeys(key: string): Float64Array | Float32Array | Int32Array {
    if (key.startsWith("component:")) return this.componentColumns.get(key.slice(10))?.data ?? new Float32Array(this.size).fill(NaN);
    switch (key) {
      case "reward":
        return this.reward.data;
      case "advantage":
        return this.advantage.data;
      case "completion_tokens":
        return this.tokens.data;
      default:
        return this.step.data;
    }
  }

  record(i: number): TrajectoryRecord {
    if (i < 0 || i >= this.size) throw new RangeError(`no sample ${i}`);
    const file = this.files.values[this.file.data[i] as number] as string;
    const length = this.length.data[i] as number;
    const fd = fs.openSync(file, "r");
    try {
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, this.offset.data[i] as number);
      return JSON.parse(buffer.toString("utf8")) as TrajectoryRecord;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** A sample's detail, with its GRPO group (the rows of its step and group, which lie together). */
  detail(i: number): SampleDetail {
    const r = this.record(i);
    const same = (k: number) => this.step.data[k] === this.step.data[i] && this.group.data[k] === this.group.data[i];
    let first = i;
    while (first > 0 && same(first - 1)) first--;
    const siblings: SampleRow[] = [];
    for (let k = first; k < this.size && same(k); k++) siblings.push(this.row(k));
    return {
      index: i,
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
      ...(r.reward_logs?.length ? { reward_logs: r.reward_logs } : {}),
      ...(r.source_reward !== undefined ? { source_reward: r.source_reward } : {}),
      siblings,
    };
  }
}
