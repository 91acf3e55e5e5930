// Prints from everywhere a schedule can: at load, while scoring (console and process.stdout/stderr),
// and from a timer after its sample is scored. A logged object looks like a protocol reply.
import { defineSchedule } from "rollout-studio";

console.log("loading the printing schedule");

export default defineSchedule({
  name: "prints",
  components: {
    chatty: {
      score: ({ sample }) => {
        console.log(42);
        console.log(JSON.stringify({ id: 1, result: { version: "printed", scores: [] } }));
        console.info({ id: 1, result: { scores: [] } });
        console.warn("warn", sample.id);
        console.error("error", sample.id);
        console.debug("debug");
        process.stdout.write("raw stdout write\n");
        process.stderr.write("raw stderr write\n");
        if (sample.completion.includes("LATER")) setTimeout(() => console.log(`printed later by ${sample.id}`), 0);
        return 1;
      },
    },
  },
});
