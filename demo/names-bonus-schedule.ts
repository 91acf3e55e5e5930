// The first demo schedule (docs/learning.md, first run): Tool Zero's reward, plus partial credit for calling the right functions
// while the model is still learning the arguments. Edit it and score again:
//   npx rollout-studio score --schedule demo/names-bonus-schedule.ts --explain < demo/rollouts.jsonl
import { defineSchedule, namesMatch, sigmoid, toolZero } from "rollout-studio";

const base = toolZero({ steepness: 0.1, midpoint: 25, unit: "step" });

export default defineSchedule({
  ...base,
  name: "demo: tool-zero + function names",
  description: "Tool Zero's format + σ(t)·strict + (1 − σ(t))·general, with a fading bonus for the right function names",
  components: {
    ...base.components,
    names: {
      description: "right functions, whatever the arguments; fades out with the exploratory phase",
      range: [0, 0.25],
      weight: (t) => 1 - sigmoid(t.step, 0.1, 25),
      score: ({ calls, truth }) => {
        if (calls === null) return { value: 0, why: "no calls parsed" };
        return namesMatch(calls, truth) ? { value: 0.25, why: "the right functions" } : { value: 0, why: "other functions" };
      },
    },
  },
});
