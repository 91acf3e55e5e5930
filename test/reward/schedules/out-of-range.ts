import { defineSchedule } from "rollout-studio";
export default defineSchedule({
  name: "declares-0-1-returns-2",
  components: { x: { range: [0, 1], score: () => 2 } },
});
