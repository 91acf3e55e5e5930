#!/usr/bin/env node
// Entry point of `npx rollout-studio`: runs the built CLI.
const path = require("node:path");
const fs = require("node:fs");
const cli = path.join(__dirname, "..", "dist", "cli.cjs");
if (!fs.existsSync(cli)) {
  process.stderr.write("rollout-studio: not built yet; run `bash scripts/setup.sh` (or `npm run build`) in the project folder\n");
  process.exit(2);
}
require(cli)
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`rollout-studio: unexpected error: ${(err && err.stack) || String(err)}\n`);
      process.exitCode = 1;
    },
  );
