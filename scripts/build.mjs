// Builds everything that runs from dist/ with esbuild, the project's one bundler.
import { build } from "esbuild";

const common = { bundle: true, platform: "node", format: "cjs", target: "node20", sourcemap: "linked", logLevel: "warning" };

await Promise.all([
  // The CLI, which also runs the reward host. esbuild stays a real dependency: it compiles schedules at run time.
  build({ ...common, entryPoints: ["reward/cli.ts"], outfile: "dist/cli.cjs", external: ["esbuild"] }),
  // The worker thread that runs reward schedules.
  build({ ...common, entryPoints: ["reward/host/worker.ts"], outfile: "dist/reward-worker.cjs" }),
]);
