// Builds everything that runs from dist/ with esbuild, the project's one bundler.
import { build } from "esbuild";

const node = { bundle: true, platform: "node", format: "cjs", target: "node20", sourcemap: "linked", logLevel: "warning" };
const browser = { bundle: true, platform: "browser", format: "esm", target: "es2022", sourcemap: "linked", logLevel: "warning", minify: true };

await Promise.all([
  // The CLI, which also runs the reward host. esbuild stays a real dependency: it compiles schedules at run time.
  build({ ...node, entryPoints: ["cli/main.ts"], outfile: "dist/cli.cjs", external: ["esbuild"] }),
  // The worker thread that runs reward schedules.
  build({ ...node, entryPoints: ["reward/host/worker.ts"], outfile: "dist/reward-worker.cjs" }),
  // The VS Code extension host side; `vscode` is supplied by VS Code.
  // onnxruntime-node (the playground) loads a native binding: it ships in node_modules (see .vscodeignore).
  build({ ...node, entryPoints: ["extension/extension.ts"], outfile: "dist/extension.cjs", external: ["vscode", "esbuild", "onnxruntime-node"] }),
  // The webviews (no Node APIs), each a script and a stylesheet in dist/webview.
  build({
    ...browser,
    entryPoints: { dashboard: "webview/dashboard.ts", explorer: "webview/explorer.ts", schedule: "webview/schedule.ts", playground: "webview/playground.ts" },
    outdir: "dist/webview",
    loader: { ".ttf": "file" },
  }),
  // monaco's workers (the schedule editor starts them from blob: URLs).
  build({
    ...browser,
    format: "iife",
    entryPoints: { "editor.worker": "node_modules/monaco-editor/esm/vs/editor/editor.worker.js", "ts.worker": "node_modules/monaco-editor/esm/vs/language/typescript/ts.worker.js" },
    outdir: "dist/webview",
  }),
]);
