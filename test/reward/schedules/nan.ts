import { defineSchedule } from "rollout-studio";
export default defineSchedule({
  name: "nan-on-bad",
  components: { ratio: { score: ({ sample }) => (sample.completion.includes("BAD") ? 0 / 0 : 1) } },
});
