import { defineSchedule } from "rollout-studio";
const hoard: number[][] = [];
export default defineSchedule({
  name: "memory-hungry-on-bad",
  components: {
    hungry: {
      score: ({ sample }) => {
        // Allocates without bound on one kind of sample.
        while (sample.completion.includes("BAD")) hoard.push(new Array(1_000_000).fill(1));
        return 1;
      },
    },
  },
});
