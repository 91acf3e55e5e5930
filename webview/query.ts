// Filtering and sorting the explorer's rows. Pure functions over SampleRow, so they run the same in the
// webview and in tests, and stay fast over a million rows (one pass to filter, one sort of indices).

import type { SampleRow } from "./protocol";

export interface Query {
  text?: string;
  step?: number;
  prompt_id?: string;
  parse_failure?: string; // a reason, "none" (parsed) or "any"
  group_outcome?: SampleRow["group_outcome"];
  reward_version?: string;
  exact?: boolean;
  reward_failure?: boolean;
  /** "reward", "advantage", "step", "completion_tokens" or "component:<name>" */
  sort?: string;
  descending?: boolean;
}

function sortKey(row: SampleRow, key: string): number {
  if (key.startsWith("component:")) return row.components[key.slice(10)] ?? -Infinity;
  switch (key) {
    case "reward":
      return row.reward ?? -Infinity; // reward failures sort below every score
    case "advantage":
      return row.advantage;
    case "completion_tokens":
      return row.completion_tokens;
    default:
      return row.step * 1e6 + row.group * 1e3 + row.sample;
  }
}

/** The rows that pass the query, in the query's order (indices into `rows`). */
export function runQuery(rows: readonly SampleRow[], q: Query): number[] {
  const text = q.text?.trim().toLowerCase();
  const out: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as SampleRow;
    if (q.step !== undefined && r.step !== q.step) continue;
    if (q.prompt_id !== undefined && r.prompt_id !== q.prompt_id) continue;
    if (q.parse_failure !== undefined) {
      if (q.parse_failure === "none" ? r.parse_failure !== null : q.parse_failure === "any" ? r.parse_failure === null : r.parse_failure !== q.parse_failure) continue;
    }
    if (q.group_outcome !== undefined && r.group_outcome !== q.group_outcome) continue;
    if (q.reward_version !== undefined && r.reward_version !== q.reward_version) continue;
    if (q.exact !== undefined && r.exact !== q.exact) continue;
    if (q.reward_failure !== undefined && (r.failure !== null) !== q.reward_failure) continue;
    if (text && !r.text.toLowerCase().includes(text) && !r.prompt_id.toLowerCase().includes(text)) continue;
    out.push(i);
  }
  if (q.sort) {
    const key = q.sort;
    const keys = new Float64Array(rows.length);
    for (const i of out) keys[i] = sortKey(rows[i] as SampleRow, key);
    const sign = q.descending ? -1 : 1;
    out.sort((a, b) => sign * ((keys[a] as number) - (keys[b] as number)) || a - b);
  }
  return out;
}
