// Which folders Open Run offers to import (runs/foreign.ts): the same as the engine's detect_format.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import { foreignRunKind } from "../../runs/foreign";

const ROOT = path.resolve(import.meta.dirname, "..", "..");

describe("foreign run folders", () => {
  it("tells TRL's output, verl's dumps and other folders apart", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-foreign-"));
    const make = (name: string, files: string[]) => {
      const folder = path.join(dir, name);
      for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(folder, f)), { recursive: true });
        fs.writeFileSync(path.join(folder, f), "");
      }
      return folder;
    };
    assert.equal(foreignRunKind(make("trl-out", ["completions/completions_00003.parquet", "checkpoint-3/trainer_state.json"])), "trl");
    assert.equal(foreignRunKind(make("trl-completions", ["completions_00001.parquet"])), "trl");
    const verl = make("dumps", ["1.jsonl", "2.jsonl"]);
    fs.copyFileSync(path.join(ROOT, "test", "fixtures", "verl", "rollout-dump-v0.6.1.jsonl"), path.join(verl, "1.jsonl"));
    assert.equal(foreignRunKind(verl), "verl");
    assert.equal(foreignRunKind(make("other", ["notes.txt", "samples.jsonl"])), null);
    assert.equal(foreignRunKind(path.join(dir, "missing")), null);
  });
});
