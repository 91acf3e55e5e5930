// The contract (contract/*.schema.json) is the one definition of what crosses a process boundary. These
// tests check that the generated types and the docs' field tables are current, that the shared fixtures
// (test/fixtures/contract, also read by engine/tests/test_contract.py) are valid or invalid as their
// names say, that the engine-written fixture run follows it, and that the readers agree with it.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";

import { DOCS, generateTypes, renderDoc, TYPES_FILE } from "../../scripts/contract";
import { SCHEMA_VERSION } from "../../contract/types";
import { metricsProblem, recordProblem, rewardVersionProblem, runInfoProblem } from "../../runs/records";
import { RunDirError, readRunInfo } from "../../runs/runDir";
import { stringifyLine } from "../../reward/wire";
import { parsePyJson } from "../../reward/pyjson";
import { assertValid, FIXTURES, problems, ROOT, SCHEMAS, type SchemaName } from "./schemas";

const RUN_SMALL = path.join(ROOT, "test", "fixtures", "run-small");

describe("contract", () => {
  it("contract/types.ts is what `npm run contract` makes of the schemas", async () => {
    const made = await generateTypes();
    assert.ok(made === fs.readFileSync(TYPES_FILE, "utf8"), "contract/types.ts differs from the schemas: run `npm run contract` and commit the result");
  });

  it("the docs' field tables are what `npm run contract` makes of the schemas' descriptions", () => {
    for (const doc of DOCS) {
      const text = fs.readFileSync(doc, "utf8");
      assert.ok(text.includes("<!-- contract: "), `${doc} has no contract tables`);
      assert.ok(renderDoc(text) === text, `${path.relative(ROOT, doc)} differs from the schemas: run \`npm run contract\` and commit the result`);
    }
  });

  it("contract/VERSION is the schema version the code writes and reads", () => {
    assert.equal(Number(fs.readFileSync(path.join(ROOT, "contract", "VERSION"), "utf8").trim()), SCHEMA_VERSION);
  });

  for (const schema of SCHEMAS) {
    it(`the shared fixtures of contract/${schema}.schema.json are valid or invalid as their names say`, () => {
      const defs = fs.readdirSync(path.join(FIXTURES, schema));
      assert.ok(defs.length > 0);
      for (const def of defs) {
        const files = fs.readdirSync(path.join(FIXTURES, schema, def)).sort();
        assert.ok(files.some((f) => f.startsWith("valid")) && files.some((f) => f.startsWith("invalid-")), `${schema}/${def} needs valid and invalid examples`);
        for (const file of files) {
          const value: unknown = JSON.parse(fs.readFileSync(path.join(FIXTURES, schema, def, file), "utf8"));
          const where = `test/fixtures/contract/${schema}/${def}/${file}`;
          if (file.startsWith("valid")) assertValid(schema as SchemaName, def, value, where);
          else if (file.startsWith("invalid-")) assert.notDeepEqual(problems(schema as SchemaName, def, value), [], `${where} should not be a valid ${def}`);
          else assert.fail(`${where}: a fixture's name starts with valid or invalid-`);
        }
      }
    });
  }

  for (const fixture of ["run-small", "run-imported"]) it(`every file of the fixture run ${fixture} (${fixture === "run-small" ? "engine-written" : "rollout-studio import"}) follows the contract`, () => {
    const RUN_SMALL = path.join(ROOT, "test", "fixtures", fixture);
    const jsonl = (file: string) => fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
    const byFile: [RegExp, string, "json" | "jsonl"][] = [
      [/^run\.json$/, "RunInfo", "json"],
      [/^metrics\.jsonl$/, "StepMetrics", "jsonl"],
      [/^eval\.jsonl$/, "EvalResult", "jsonl"],
      [/^rollouts\/step-\d{6}\.jsonl$/, "TrajectoryRecord", "jsonl"],
      [/^index\/step-\d{6}\.jsonl$/, "IndexRow", "jsonl"],
      [/^rewards\/[0-9a-f]+\.json$/, "RewardVersion", "json"],
    ];
    const files = fs.readdirSync(RUN_SMALL, { recursive: true, encoding: "utf8" }).filter((f) => fs.statSync(path.join(RUN_SMALL, f)).isFile());
    assert.ok(files.length >= 6);
    for (const file of files) {
      const kind = byFile.find(([pattern]) => pattern.test(file.split(path.sep).join("/")));
      assert.ok(kind, `test/fixtures/${fixture}/${file}: no record of the contract is written there`);
      const values = kind[2] === "json" ? [JSON.parse(fs.readFileSync(path.join(RUN_SMALL, file), "utf8")) as unknown] : jsonl(path.join(RUN_SMALL, file));
      values.forEach((value, i) => assertValid("run-directory", kind[1], value, `${fixture}/${file}${kind[2] === "jsonl" ? ` line ${i + 1}` : ""}`));
    }
  });

  it("the readers' own checks accept every valid record", () => {
    const checks: [string, (v: unknown) => string | null][] = [
      ["RunInfo", runInfoProblem],
      ["TrajectoryRecord", recordProblem],
      ["StepMetrics", metricsProblem],
      ["RewardVersion", rewardVersionProblem],
    ];
    for (const [def, check] of checks) {
      for (const file of fs.readdirSync(path.join(FIXTURES, "run-directory", def)).filter((f) => f.startsWith("valid"))) {
        assert.equal(check(JSON.parse(fs.readFileSync(path.join(FIXTURES, "run-directory", def, file), "utf8"))), null, `${def}/${file}`);
      }
    }
  });
});

describe("schema version", () => {
  const runWith = (version: unknown): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-version-"));
    const info = JSON.parse(fs.readFileSync(path.join(RUN_SMALL, "run.json"), "utf8")) as Record<string, unknown>;
    if (version === undefined) delete info.schema_version;
    else info.schema_version = version;
    fs.writeFileSync(path.join(dir, "run.json"), JSON.stringify(info));
    return dir;
  };

  it("reads a run of this version, and an older one without schema_version as version 1", () => {
    assert.equal(readRunInfo(runWith(SCHEMA_VERSION)).schema_version, SCHEMA_VERSION);
    assert.equal(readRunInfo(runWith(undefined)).status, "finished");
  });

  it("refuses a run from a newer version, naming the run directory and its version", () => {
    const dir = runWith(SCHEMA_VERSION + 1);
    assert.throws(
      () => readRunInfo(dir),
      (e: Error) => e instanceof RunDirError && e.message.includes(dir) && e.message.includes(`schema version ${SCHEMA_VERSION + 1}`) && e.message.includes("update Rollout Studio"),
    );
  });

  it("refuses a schema_version that is not a whole number of 1 or more", () => {
    for (const bad of ["2", 0, 1.5]) assert.throws(() => readRunInfo(runWith(bad)), /"schema_version" must be a whole number/);
  });
});

describe("Python's numbers on the wire", () => {
  it("writes a float read as 40.0 as 40.0, so Python reads a float again", () => {
    const value = parsePyJson('{"name": "set_volume", "arguments": {"level": 40.0, "count": 40, "big": 1e2, "half": 0.5, "huge": 123456789012345678901}}');
    assert.equal(stringifyLine(value), '{"name":"set_volume","arguments":{"level":40.0,"count":40,"big":100.0,"half":0.5,"huge":123456789012345678901}}');
    assert.equal(stringifyLine({ a: [1, { b: "x" }], c: undefined, d: null }), JSON.stringify({ a: [1, { b: "x" }], c: undefined, d: null }));
  });
});
