// The contract's JSON Schemas for the TypeScript tests, validated with ajv (draft 2020-12). Python's tests
// validate the same files with jsonschema (engine/tests/contract_check.py).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
export const FIXTURES = path.join(ROOT, "test", "fixtures", "contract");
export const SCHEMAS = ["run-directory", "engine-events", "control", "reward-host"] as const;
export type SchemaName = (typeof SCHEMAS)[number];

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addKeyword({ keyword: "tsType", schemaType: "string" }); // json-schema-to-typescript's: the TypeScript type to write
const ids = new Map<SchemaName, string>();
for (const name of SCHEMAS) {
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, "contract", `${name}.schema.json`), "utf8")) as { $id: string };
  ids.set(name, schema.$id);
  ajv.addSchema(schema);
}

/** The validator of one definition, e.g. validator("run-directory", "RunInfo"). */
export function validator(schema: SchemaName, def: string): ValidateFunction {
  const ref = `${ids.get(schema)}#/$defs/${def}`;
  const validate = ajv.getSchema(ref);
  if (!validate) throw new Error(`contract/${schema}.schema.json has no $defs/${def}`);
  return validate;
}

const describe = (e: ErrorObject) => `${e.instancePath || "(the value)"} ${e.message ?? ""}${e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : ""}`;

/** What is wrong with a value by one definition ([] when it is valid). */
export function problems(schema: SchemaName, def: string, value: unknown): string[] {
  const validate = validator(schema, def);
  return validate(value) ? [] : (validate.errors ?? []).map(describe);
}

/** Fails with what is wrong, and where the value came from, unless it is valid. */
export function assertValid(schema: SchemaName, def: string, value: unknown, where = ""): void {
  const found = problems(schema, def, value);
  assert.deepEqual(found, [], `${where ? where + ": " : ""}not a valid ${def} (contract/${schema}.schema.json): ${found.slice(0, 5).join("; ")}\n${JSON.stringify(value).slice(0, 400)}`);
}

/** The definition a reply to `method` follows. */
export const REPLY_DEF: Record<string, string> = { score: "ScoreReply", version: "VersionReply", reload: "ReloadReply", load: "LoadReply", weights: "WeightsReply", shutdown: "ShutdownReply" };
