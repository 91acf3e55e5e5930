import { defineSchedule } from "rollout-studio";
export default defineSchedule({
  name: "loops-on-bad",
  components: {
    stuck: {
      score: ({ sample }) => {
        // An endless loop on one kind of sample.
        while (sample.completion.includes("BAD")) {
          /* spin */
        }
        return 1;
      },
    },
  },
});
