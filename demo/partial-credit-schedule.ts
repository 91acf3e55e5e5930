// Partial credit per argument, so that a well-formed but wrong call beats an empty one: the demo run
// with Tool Zero's reward learned to write empty <tool_call> blocks (docs/learning.md).
import { assignCalls, defineSchedule, exactCallsMatch } from "rollout-studio";
import { callCredit } from "./reward-schedule"; // the same per-argument credit as the demo schedule

export default defineSchedule({
  name: "demo: partial credit",
  description: "format (only when the calls parse) + per-argument partial credit + a bonus for exact calls",
  components: {
    format: {
      range: [0, 0.2],
      score: ({ parsed, calls, truth }) => {
        const shaped = parsed.think !== null && calls !== null && (calls.length > 0 || truth.length === 0);
        return shaped ? { value: 0.2, why: "reasoning, then calls that parse" } : { value: 0, why: calls === null ? "no calls that parse" : "an empty call list where calls were expected" };
      },
    },
    credit: {
      range: [0, 1],
      score: ({ calls, truth }) => {
        if (calls === null) return { value: 0, why: "no calls parsed" };
        if (truth.length === 0) return calls.length === 0 ? { value: 1, why: "no call expected, none made" } : { value: 0, why: "no call was expected" };
        const pairs = assignCalls(truth, calls, "optimal", callCredit);
        const total = pairs.reduce((sum, p) => sum + p.score, 0) / Math.max(truth.length, calls.length);
        return { value: total, why: `${pairs.length} of ${truth.length} calls matched, credit ${total.toFixed(2)}` };
      },
    },
    exact: {
      range: [0, 1],
      score: ({ calls, truth }) => (calls !== null && exactCallsMatch(calls, truth) ? { value: 1, why: "exactly right" } : { value: 0, why: "not exact" }),
    },
  },
});
