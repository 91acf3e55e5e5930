// The demo's reward schedule: Tool Zero's exploratory → exploitative shape, weighted so that the total
// rises only as the calls get right:
//   R = 0.2·format + 0.8·(σ(t)·strict + (1 − σ(t))·credit)
// - format (0.2 at most): Tool Zero's tag check, half of it only when the calls parse; with the tag
//   check alone a tiny model learns to write tags around token soup. It is small on purpose: an earlier
//   version paid format 1.0 of a 1.0 maximum, and a run maxed its reward with every call wrong;
// - credit (exploratory, fades out): per-argument partial credit on the parsed calls, matched as the
//   reward matches them, instead of Tool Zero's bag-of-tokens recall;
// - strict (exploitative, fades in): 1 for exactly the expected calls.
// A completion with wrong calls earns at most 0.2 + 0.8·(1 − σ(t))·credit; only exact calls reach 1.
// Edit it while a run trains: saving hot-reloads it. Score stored rollouts with it:
//   npx rollout-studio score --schedule demo/reward-schedule.ts --explain < rollouts.jsonl
import { assignCalls, defineSchedule, pyEquals, sigmoid, toolZero, type ToolCall } from "rollout-studio";

const STEEPNESS = 0.1;
const MIDPOINT = 60; // the step where strict and credit weigh the same
const FORMAT = 0.2; // the most that format alone can earn
const paper = toolZero({ steepness: STEEPNESS, midpoint: MIDPOINT, unit: "step" });

/** Credit for one predicted call against one expected call: 0.4 for the function, 0.6 over its arguments. */
export function callCredit(truth: ToolCall, predicted: ToolCall): number {
  if (truth.name !== predicted.name) return 0;
  const keys = Object.keys(truth.arguments);
  const extra = Object.keys(predicted.arguments).filter((k) => !(k in truth.arguments)).length;
  if (keys.length === 0) return extra === 0 ? 1 : 0.7;
  let right = 0;
  for (const k of keys) if (k in predicted.arguments) right += pyEquals(predicted.arguments[k] ?? null, truth.arguments[k] ?? null) ? 1 : 0.3;
  return 0.4 + (0.6 * right) / (keys.length + extra);
}

export default defineSchedule({
  ...paper,
  name: "demo: tool-zero with parsed format and partial credit, paying most for exact calls",
  description: "0.2·format (calls parse) + 0.8·(σ(t)·strict + (1 − σ(t))·per-argument credit)",
  components: {
    format: {
      description: "0.5 for <think> then <tool_call> in order (Tool Zero's check), 0.5 more when the calls parse",
      range: [0, 1],
      weight: FORMAT,
      score: (p, t) => {
        const tags = paper.components.format!.score(p, t);
        const value = typeof tags === "number" ? tags : tags.value;
        if (value <= 0) return { value: 0, why: typeof tags === "number" ? "tags missing or out of order" : tags.why };
        if (p.calls === null) return { value: 0.5, why: "tags in order, but no calls that parse" };
        if (p.calls.length === 0 && p.truth.length > 0) return { value: 0.5, why: "tags in order, but an empty call list where calls were expected" };
        return { value: 1, why: "tags in order, calls that parse" };
      },
    },
    strict: { ...paper.components.strict!, weight: (t) => (1 - FORMAT) * sigmoid(t.step, STEEPNESS, MIDPOINT) },
    credit: {
      description: "per-argument partial credit, calls matched one to one (exploratory; fades out)",
      range: [0, 1],
      weight: (t) => (1 - FORMAT) * (1 - sigmoid(t.step, STEEPNESS, MIDPOINT)),
      score: ({ calls, truth }) => {
        if (calls === null) return { value: 0, why: "no calls parsed" };
        if (truth.length === 0) return calls.length === 0 ? { value: 1, why: "no call expected, none made" } : { value: 0, why: "no call was expected" };
        const pairs = assignCalls(truth, calls, "optimal", callCredit);
        const credit = pairs.reduce((sum, p) => sum + p.score, 0) / Math.max(truth.length, calls.length);
        return { value: credit, why: `${pairs.filter((p) => p.score > 0).length} of ${truth.length} calls credited, credit ${credit.toFixed(2)}` };
      },
    },
  },
});
