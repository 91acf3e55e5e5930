// Finding the engine's Python, and the message when there is none.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import { checkPython, findPython } from "../../runs/python";

describe("engine Python", () => {
  it("says why a Python cannot be used", () => {
    const missing = checkPython("/nonexistent/python3");
    assert.ok("problem" in missing && /does not exist/.test(missing.problem));
  });

  it("reports a configured Python without torch with the fix, and never falls back silently", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-py-"));
    const fake = path.join(dir, "python");
    fs.writeFileSync(fake, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n", { mode: 0o755 });
    assert.throws(() => findPython({ configured: fake, root: dir }), /has no PyTorch.*pip install torch.*rolloutStudio\.pythonPath/);
  });

  it("takes the Python that set-up chose when it has torch", (t) => {
    const root = path.resolve(import.meta.dirname, "..", "..");
    const chosen = path.join(root, ".rollout-studio", "python");
    if (!fs.existsSync(chosen)) return t.skip("no Python chosen yet: run bash scripts/setup.sh");
    const found = findPython({ root, env: {} });
    assert.equal(found.python, fs.readFileSync(chosen, "utf8").trim());
    assert.match(found.torch, /^\d+\.\d+/);
  });
});
