import { defineSchedule } from "rollout-studio";
// Ends the whole reward host process from step 2 on: what a crashing native dependency would do.
export default defineSchedule({
  name: "kills-the-host-from-step-2",
  components: {
    fatal: {
      score: (_context, t) => {
        if (t.step >= 2) process.kill(process.pid, "SIGKILL");
        return 1;
      },
    },
  },
});
