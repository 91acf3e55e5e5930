// Throws after scoring: from a timer, or a promise rejection nobody handles. The scores themselves are fine.
import { defineSchedule } from "rollout-studio";

export default defineSchedule({
  name: "late-errors",
  components: {
    careless: {
      score: ({ sample }) => {
        if (sample.completion.includes("TIMER")) {
          setTimeout(() => {
            throw new Error(`thrown later by a timer of ${sample.id}`);
          }, 0);
        }
        if (sample.completion.includes("REJECT")) void Promise.reject(new Error(`rejected later by ${sample.id}`));
        return 1;
      },
    },
  },
});
