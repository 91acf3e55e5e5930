// A reward that varies with any completion, even a random model's: its length. The engine's tests use it
// so that every GRPO group has advantages to learn from.
import { defineSchedule } from "rollout-studio";

export default defineSchedule({
  name: "length",
  components: {
    length: {
      range: [0, 1],
      score: ({ sample }) => ({ value: Math.min(1, sample.completion.length / 100), why: `${sample.completion.length} characters` }),
    },
  },
});
