// `npm run contract`: makes contract/types.ts from the JSON Schemas in contract/, and the field tables in
// docs/ from the schemas' descriptions. Both are committed; test/contract/contract.test.ts fails when
// either differs from what this script makes, so the schemas stay the one definition.

import fs from "node:fs";
import path from "node:path";
import { compile, type JSONSchema } from "json-schema-to-typescript";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const CONTRACT = path.join(ROOT, "contract");
export const SCHEMA_FILES = ["run-directory.schema.json", "engine-events.schema.json", "control.schema.json", "reward-host.schema.json"] as const;
export const TYPES_FILE = path.join(CONTRACT, "types.ts");
/** The documents whose field tables come from the schemas (between `<!-- contract: … -->` and `<!-- /contract -->`). */
export const DOCS = ["docs/run-directory.md", "docs/reward-host-protocol.md"].map((d) => path.join(ROOT, d));

type Schema = { [key: string]: unknown } & {
  $id?: string;
  $ref?: string;
  $defs?: Record<string, Schema>;
  title?: string;
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
};

export function readSchema(file: string): Schema {
  return JSON.parse(fs.readFileSync(path.join(CONTRACT, file), "utf8")) as Schema;
}

export function schemaVersion(): number {
  const text = fs.readFileSync(path.join(CONTRACT, "VERSION"), "utf8").trim();
  if (!/^[1-9]\d*$/.test(text)) throw new Error(`contract/VERSION must hold a whole number, found "${text}"`);
  return Number(text);
}

// ---- contract/types.ts ---------------------------------------------------------------------------------

const HEADER = `// Generated from the JSON Schemas in contract/ by \`npm run contract\` (scripts/contract.ts): do not edit.
// Change the schema, run \`npm run contract\`, and commit both; a unit test fails when they differ.
`;

function withoutRefDescriptions(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutRefDescriptions);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) if (!(key === "description" && "$ref" in node)) out[key] = withoutRefDescriptions(value);
  return out;
}

/** The TypeScript types of every $defs entry of every schema, and the schema version. */
export async function generateTypes(): Promise<string> {
  // One root that names every definition, so each is generated once even where several files use it.
  const defs: Record<string, JSONSchema> = {};
  for (const file of SCHEMA_FILES) {
    for (const name of Object.keys(readSchema(file).$defs ?? {})) {
      if (defs[name]) throw new Error(`$defs/${name} is defined twice (in ${file} too): give it one home`);
      defs[name] = { $ref: `${file}#/$defs/${name}` };
    }
  }
  const root: JSONSchema = { title: "Contract", type: "object", additionalProperties: false, $defs: defs };
  // The schemas are read here, with descriptions beside a $ref dropped: such a $ref would otherwise become
  // a second type (SourceLocation1) instead of the one it names. The docs keep those descriptions.
  const read = (file: { url: string }) => JSON.stringify(withoutRefDescriptions(readSchema(path.basename(file.url))));
  const $refOptions = { resolve: { contract: { order: 1, canRead: /\.schema\.json$/, read } } };
  const out = await compile(root, "Contract", { cwd: CONTRACT, bannerComment: "", unreachableDefinitions: true, additionalProperties: false, format: true, $refOptions } as Parameters<typeof compile>[2]);
  const body = out
    .replace(/\n \*\n \* This interface was referenced by `Contract`'s JSON-Schema\n \* via the `definition` "\w+"\./g, "")
    .replace(/\/\*\*\n \* This interface was referenced by `Contract`'s JSON-Schema\n \* via the `definition` "\w+"\.\n \*\/\n/g, "")
    .replace(/export interface Contract \{\}\n/, "");
  return `${HEADER}\n/** The run-directory schema version this code writes and reads (contract/VERSION). */\nexport const SCHEMA_VERSION = ${schemaVersion()};\n\n${body}`;
}

// ---- the field tables in docs/ -------------------------------------------------------------------------

const byId = new Map<string, { file: string; schema: Schema }>();
function schemaOf(file: string): Schema {
  const schema = readSchema(file);
  if (schema.$id) byId.set(schema.$id, { file, schema });
  return schema;
}

/** What a $ref points at: the file, the definition's name (for a whole $defs entry) and the schema. */
function resolve(ref: string, from: string): { file: string; name: string | null; schema: Schema } {
  const [target, pointer = ""] = ref.split("#");
  const file = target ? path.basename(target) : from;
  let node: unknown = schemaOf(file);
  const parts = pointer.split("/").filter(Boolean);
  for (const part of parts) node = (node as Record<string, unknown>)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  if (node === undefined) throw new Error(`${from}: $ref ${ref} points at nothing`);
  const name = parts.length === 2 && parts[0] === "$defs" ? (parts[1] as string) : null;
  return { file, name, schema: node as Schema };
}

const code = (value: unknown) => "`" + JSON.stringify(value) + "`";

/** A short text for a schema's type: `string`, `integer or null`, `list of ToolCall`, `{name: number}`, … */
function typeText(schema: Schema, file: string): string {
  if (schema.$ref) {
    const target = resolve(schema.$ref, file);
    return target.name ?? typeText(target.schema, target.file);
  }
  if ("const" in schema) return code(schema.const);
  if (schema.enum) return schema.enum.map(code).join(" or ");
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map((s) => typeText(s, file)).join(" or ");
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return "any";
  return types
    .map((t) => {
      if (t === "array") return schema.items ? `list of ${typeText(schema.items, file)}` : "list";
      if (t !== "object") return t;
      if (schema.properties && Object.keys(schema.properties).length) {
        const required = new Set(schema.required ?? []);
        return `{${Object.keys(schema.properties).map((p) => (required.has(p) ? p : `${p}?`)).join(", ")}}`;
      }
      if (typeof schema.additionalProperties === "object") return `{name: ${typeText(schema.additionalProperties, file)}}`;
      return "object";
    })
    .join(" or ");
}

/** A property's meaning: its own description, else the description of what it refers to. */
function meaning(schema: Schema, file: string): string {
  if (schema.description) return schema.description;
  if (schema.$ref) {
    const target = resolve(schema.$ref, file);
    return meaning(target.schema, target.file);
  }
  return "";
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function fieldsTable(schema: Schema, file: string, skip: string[] = []): string[] {
  const required = new Set(schema.required ?? []);
  const lines = ["| field | type | meaning |", "|---|---|---|"];
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (skip.includes(name)) continue;
    lines.push(`| \`${name}\`${required.has(name) ? "" : " (optional)"} | ${cell(typeText(property, file))} | ${cell(meaning(property, file))} |`);
  }
  if (typeof schema.additionalProperties === "object" || schema.additionalProperties === true) lines.push(`| (other fields) | ${schema.additionalProperties === true ? "any" : cell(typeText(schema.additionalProperties, file))} | allowed |`);
  return lines;
}

/** A union of messages told apart by one field (`event`, `method`, `command`), or by their definitions' names (`-`): a row per kind. */
function unionTable(schema: Schema, file: string, key: string): string[] {
  const lines = [`| ${key === "-" ? "kind" : key} | fields | meaning |`, "|---|---|---|"];
  for (const variant of schema.oneOf ?? schema.anyOf ?? []) {
    const target = variant.$ref ? resolve(variant.$ref, file) : { file, name: variant.title ?? null, schema: variant };
    const s = target.schema;
    const tag = s.properties?.[key];
    const tags = key === "-" ? [target.name ?? s.title ?? "?"] : tag ? ("const" in tag ? [tag.const] : (tag.enum ?? (tag.$ref ? (resolve(tag.$ref, target.file).schema.enum ?? []) : []))) : [];
    const required = new Set(s.required ?? []);
    const fields = Object.entries(s.properties ?? {})
      .filter(([name]) => name !== key)
      .map(([name, p]) => `\`${name}${required.has(name) ? "" : "?"}\` (${typeText(p, target.file)})`)
      .join(", ");
    lines.push(`| ${tags.map((t) => "`" + String(t) + "`").join(", ")} | ${cell(fields || "—")} | ${cell(meaning(s, target.file))} |`);
  }
  return lines;
}

/** The text of one `<!-- contract: FILE#/$defs/NAME[/…] [union=KEY] [skip=a,b] -->` block. */
function renderBlock(spec: string): string {
  const match = /^(\S+?)#(\/\$defs\/\w+(?:\/\w+)*)((?:\s+\w+=\S+)*)$/.exec(spec.trim());
  if (!match) throw new Error(`bad contract block "${spec}": write <!-- contract: FILE.schema.json#/$defs/NAME [union=KEY] [skip=a,b] -->`);
  const [, file, pointer, rest] = match as unknown as [string, string, string, string];
  const options = Object.fromEntries([...rest.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
  const { schema } = resolve(`#${pointer}`, file);
  const name = pointer.split("/").slice(2).filter((p) => p !== "properties").join(".");
  const source = `\`${name}\` in [contract/${file}](../contract/${file})`;
  const intro = schema.description ? `${cell(schema.description)} (${source})` : `(${source})`;
  const table = options.union ? unionTable(schema, file, options.union) : fieldsTable(schema, file, options.skip?.split(",") ?? []);
  return [intro, "", ...table].join("\n");
}

const BLOCK = /(<!-- contract: ([^>]*?) -->\n)([\s\S]*?)(<!-- \/contract -->)/g;

/** A document with each contract block made again from the schemas. */
export function renderDoc(text: string): string {
  return text.replace(BLOCK, (_all, open: string, spec: string, _old: string, close: string) => `${open}${renderBlock(spec)}\n${close}`);
}

async function main(): Promise<void> {
  fs.writeFileSync(TYPES_FILE, await generateTypes());
  for (const doc of DOCS) fs.writeFileSync(doc, renderDoc(fs.readFileSync(doc, "utf8")));
  console.log(`wrote ${path.relative(ROOT, TYPES_FILE)} and the contract tables of ${DOCS.map((d) => path.relative(ROOT, d)).join(", ")}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) void main();
