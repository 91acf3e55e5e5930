// The control socket's client (runs/control.ts) against the engine's own socket server (rollout_engine/
// control.py): found through the run directory's control.json for a run directory of any length, and a
// clear "no engine" error when none is running.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { after, describe, it } from "node:test";

import { ControlError, controlSocket, sendControl } from "../../runs/control";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const CHOSEN = path.join(ROOT, ".rollout-studio", "python");

// The engine's Control with a stand-in trainer that answers samples between "steps" until a stop.
const SERVER = `
import sys, time
from pathlib import Path
from rollout_engine.control import Control
control = Control(Path(sys.argv[1]))
control.start()
print("ready", flush=True)
while not control.stop_requested:
    control.serve_samples(lambda m: {"completion": "echo " + m["prompt"], "finish_reason": "stop"})
    time.sleep(0.02)
control.close()
`;

function startServer(runDir: string): Promise<ChildProcess> {
  const python = fs.readFileSync(CHOSEN, "utf8").trim();
  const child = spawn(python, ["-c", SERVER, runDir], { env: { ...process.env, PYTHONPATH: path.join(ROOT, "engine") }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => line === "ready" && resolve(child));
    child.on("exit", (code) => reject(new Error(`the control server exited (code ${code})`)));
  });
}

const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rs-control-"));
after(() => fs.rmSync(temp, { recursive: true, force: true }));

describe("control socket", () => {
  it("reaches the engine of a run directory whose path is far longer than AF_UNIX's 107 bytes", async (t) => {
    if (!fs.existsSync(CHOSEN)) return t.skip("no Python chosen yet: run bash scripts/setup.sh");
    let runDir = temp;
    while (runDir.length < 250) runDir = path.join(runDir, "a-rather-long-folder-name-for-runs");
    fs.mkdirSync(runDir, { recursive: true });
    const server = await startServer(runDir);
    try {
      const found = controlSocket(runDir);
      assert.ok("socket" in found, JSON.stringify(found));
      assert.equal(found.pid, server.pid);
      assert.ok(Buffer.byteLength(found.socket) <= 100 && (fs.statSync(found.socket).mode & 0o777) === 0o600);
      assert.deepEqual(await sendControl(runDir, { command: "pause" }), { ok: true, command: "pause" });
      assert.deepEqual(await sendControl(runDir, { command: "sample", prompt: "hi", max_new_tokens: 4 }), { ok: true, completion: "echo hi", finish_reason: "stop" });
      const refused = await sendControl(runDir, { command: "sample", prompt: "hi", max_new_tokens: -1 });
      assert.equal(refused.ok, false);
      assert.match(String(refused.error), /field 'max_new_tokens' must be a whole number from 1 to 4096, got -1/);
      assert.deepEqual(await sendControl(runDir, { command: "stop" }), { ok: true, command: "stop" });
      await new Promise((resolve) => server.on("exit", resolve));
      assert.ok(!fs.existsSync(found.socket) && !fs.existsSync(path.join(runDir, "control.json")));
      await assert.rejects(sendControl(runDir, { command: "pause" }), (e: ControlError) => e instanceof ControlError && e.noEngine && e.message.includes(runDir));
    } finally {
      server.kill();
    }
  });

  it("says which run has no engine, and how to start one", async () => {
    const runDir = fs.mkdtempSync(path.join(temp, "run-"));
    await assert.rejects(sendControl(runDir, { command: "stop" }), (e: unknown) => {
      assert.ok(e instanceof ControlError && e.noEngine);
      assert.match(e.message, new RegExp(`^no engine is running ${runDir}: it has no control\\.json.*rollout-studio train --config RUN\\.toml --run-dir ${runDir} --resume`));
      return true;
    });
  });

  it("treats the control.json of an engine that was killed as no engine", async () => {
    const runDir = fs.mkdtempSync(path.join(temp, "run-"));
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => dead.on("exit", resolve));
    fs.writeFileSync(path.join(runDir, "control.json"), JSON.stringify({ socket: path.join(temp, "gone.sock"), pid: dead.pid }));
    await assert.rejects(sendControl(runDir, { command: "pause" }), /no engine is running .*: the engine that wrote its control\.json \(pid \d+\) has exited/);
  });
});
