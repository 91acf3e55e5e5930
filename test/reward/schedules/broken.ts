import { defineSchedule } from "rollout-studio";
export default defineSchedule({
  name: "does-not-compile",
  components: { x: { score: () => { return 1 } } ,
});
