// Holds typed arrays (memory outside the JS heap, which V8's heap limit does not cover) on some
// samples: 512 MB at most, in 16 MB arrays, whatever the configured limit.
import { defineSchedule } from "rollout-studio";

const hoard: Float64Array[] = [];
const MB16 = 2 * 1024 * 1024; // Float64 elements in 16 MB

export default defineSchedule({
  name: "off-heap-hungry",
  components: {
    hoard: {
      score: ({ sample }) => {
        // Keeps 512 MB of arrays and returns. Their pages are never written, so the process's resident
        // memory hardly grows: only the worker's own count of ArrayBuffer memory can see them.
        if (sample.completion.includes("HOARD")) while (hoard.length < 32) hoard.push(new Float64Array(MB16));
        // Writes 512 MB of arrays (resident memory) and then does not return for 20 s: only a watch from
        // outside the worker can stop it before the batch's time limit.
        if (sample.completion.includes("SPIN")) {
          while (hoard.length < 32) hoard.push(new Float64Array(MB16).fill(1));
          const end = Date.now() + 20_000;
          while (Date.now() < end);
        }
        return 1;
      },
    },
  },
});
