// A user schedule as a researcher would write it: exact calls, plus a format term that fades out.
import { defineSchedule, exactCallsMatch } from "rollout-studio";

export default defineSchedule({
  name: "fading-format",
  components: {
    format: {
      range: [0, 1],
      weight: (t) => Math.max(0, 1 - t.step / 100),
      score: ({ parsed }) => (parsed.think !== null ? { value: 1, why: "has <think>" } : { value: 0, why: "no <think>" }),
    },
    exact: {
      range: [0, 1],
      score: ({ calls, truth }) => (calls !== null && exactCallsMatch(calls, truth) ? { value: 1, why: "exact" } : { value: 0, why: "not exact" }),
    },
  },
});
