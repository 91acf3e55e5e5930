import { defineSchedule } from "rollout-studio";
export default defineSchedule({
  name: "throws-on-bad",
  components: {
    picky: {
      score: ({ sample }) => {
        if (sample.completion.includes("BAD")) throw new Error("cannot score this one");
        return { value: 1, why: "fine" };
      },
    },
  },
});
