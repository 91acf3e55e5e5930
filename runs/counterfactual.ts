// What each tool-call difference cost: the completion is rewritten with one difference fixed, scored
// again with the version of the reward that scored it, and the change in each component is that
// difference's cost. No VS Code dependency.

import { diffCalls, differences } from "../reward/diff";
import type { ToolCall } from "../reward/parse";
import type { TrajectoryRecord } from "./records";
import { rescore, type RescoreOptions } from "./rescore";

/** The completion with the calls inside its <tool_call> block replaced, in the template's call format; null when it has no such block. */
export function withCalls(completion: string, calls: readonly ToolCall[], template: string | undefined): string | null {
  const match = /<tool_call>([\s\S]*?)<\/tool_call>/.exec(completion);
  if (!match) return null;
  const body = template === "toolrl" ? calls.map((c) => JSON.stringify({ name: c.name, parameters: c.arguments })).join("\n") : JSON.stringify(calls);
  return completion.slice(0, match.index) + `<tool_call>\n${body}\n</tool_call>` + completion.slice(match.index + match[0].length);
}

export interface DifferenceCost {
  label: string;
  /** Change in the total reward were this difference fixed (positive: it cost that much). */
  total: number | null;
  /** Change in each component (weighted values) that moves. */
  components: Record<string, number>;
}

/**
 * Per difference, how much fixing it alone would change the reward and each component, scored by
 * `rewardArgs` (--preset/--schedule of the version that scored the record). Null when the completion's
 * calls did not parse (there is no call block to rewrite) or match exactly.
 */
export async function differenceCosts(record: TrajectoryRecord, rewardArgs: string[], options: RescoreOptions): Promise<DifferenceCost[] | null> {
  if (!record.calls) return null;
  const predicted = record.calls as ToolCall[];
  const truth = record.ground_truth as ToolCall[];
  const diff = diffCalls(predicted, truth);
  if (diff.exact) return [];
  const items = differences(predicted, truth, diff);
  const variants: TrajectoryRecord[] = [];
  const labels: string[] = [];
  const original = withCalls(record.completion, predicted, options.template);
  if (original === null) return null;
  variants.push({ ...record, completion: original }); // the same calls, rewritten the same way: the baseline
  for (const item of items) {
    const completion = withCalls(record.completion, item.fixed, options.template);
    if (completion === null) continue;
    variants.push({ ...record, completion });
    labels.push(item.label);
  }
  const scored = await rescore(variants, rewardArgs, options);
  const base = scored[0];
  if (!base) return null;
  return labels.map((label, k) => {
    const s = scored[k + 1];
    const components: Record<string, number> = {};
    for (const [name, value] of Object.entries(s?.componentsAfter ?? {})) {
      const delta = value - (base.componentsAfter[name] ?? 0);
      if (Math.abs(delta) > 1e-9) components[name] = delta;
    }
    const total = s?.after !== null && s?.after !== undefined && base.after !== null ? s.after - base.after : null;
    return { label, total, components };
  });
}
