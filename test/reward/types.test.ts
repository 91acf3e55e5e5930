// The API's shipped type declarations let an editor check schedule code: good schedules type-check,
// and a mistake is reported at its line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { ROOT, SCHEDULES } from "./helpers";

const TYPES = path.join(ROOT, "dist", "types", "reward", "index.d.ts");

function typecheck(files: string[]): { code: number | null; out: string } {
  if (!existsSync(TYPES)) spawnSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(ROOT, "tsconfig.types.json")], { cwd: ROOT });
  const dir = mkdtempSync(path.join(os.tmpdir(), "rs-types-"));
  try {
    const config = { compilerOptions: { strict: true, noEmit: true, module: "ESNext", moduleResolution: "Bundler", target: "ES2022", types: [], skipLibCheck: true, paths: { "rollout-studio": [TYPES] } }, files };
    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(config));
    const r = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { encoding: "utf8" });
    return { code: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("schedule type declarations", () => {
  it("type-check the example schedules and the demo schedules", () => {
    const r = typecheck([...["good.ts", "throws.ts", "loops.ts"].map((f) => path.join(SCHEDULES, f)), path.join(ROOT, "demo", "reward-schedule.ts"), path.join(ROOT, "demo", "partial-credit-schedule.ts"), path.join(ROOT, "demo", "names-bonus-schedule.ts")]);
    assert.equal(r.code, 0, r.out);
  });
  it("report a misspelt field at its line", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "rs-bad-"));
    const file = path.join(dir, "bad.ts");
    writeFileSync(file, 'import { defineSchedule } from "rollout-studio";\nexport default defineSchedule({\n  name: "x",\n  components: { a: { score: ({ calls }) => ({ value: calls?.length ?? 0, wyh: "typo" }) } },\n});\n');
    const r = typecheck([file]);
    rmSync(dir, { recursive: true, force: true });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /bad\.ts\(4,\d+\): error TS2322:[\s\S]*Property 'why' is missing/);
  });
});
