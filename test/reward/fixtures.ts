// Locating the shared fixture files: the copies in test/ (every clone has them), else ../shared beside the checkout or shared/ inside it.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parsePyJson, type PyValue } from "../../reward/pyjson";

const ROOT = path.resolve(__dirname, "..", "..");

export function sharedFixture(relative: string): string {
  for (const base of [path.join(ROOT, "test"), path.join(ROOT, "..", "shared"), path.join(ROOT, "shared")]) {
    const file = path.join(base, relative);
    if (existsSync(file)) return file;
  }
  throw new Error(`fixture ${relative} not found in ../shared or ./shared`);
}

export interface FixtureRow {
  id: string;
  completion: string;
  ground_truth: PyValue;
  gold: number;
  gold_components?: { [name: string]: number };
  step?: number;
}

/** Reads a JSONL fixture with the Python-compatible reader, so 40.0 stays a float. */
export function readFixture(relative: string): FixtureRow[] {
  return readFileSync(sharedFixture(relative), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => parsePyJson(l) as unknown as FixtureRow);
}
