// Shared by the tests that need the built CLI and worker.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const CLI = path.join(ROOT, "dist", "cli.cjs");
export const SCHEDULES = path.join(__dirname, "schedules");

/** Builds dist/ when a test file runs on its own before `npm run build`. */
export function ensureBuilt(): void {
  if (!existsSync(CLI) || !existsSync(path.join(ROOT, "dist", "reward-worker.cjs"))) {
    execFileSync(process.execPath, [path.join(ROOT, "scripts", "build.mjs")], { cwd: ROOT, stdio: "inherit" });
  }
}
