// Compiling a reward-schedule file (TypeScript or JavaScript) into one CommonJS bundle with esbuild.
// "rollout-studio" stays external: the worker supplies its own copy of the API, so a schedule's
// objects and the runtime's are the same classes.

import { readFile } from "node:fs/promises";
import path from "node:path";
import { build, type Message } from "esbuild";
import { versionHash } from "../version";

export interface CompiledSchedule {
  /** Absolute path of the schedule file. */
  file: string;
  /** The bundle, with an inline source map back to the schedule's TypeScript. */
  code: string;
  /** 12 hex digits over every source file in the bundle (the schedule's own file by content, not name). */
  version: string;
  /** The schedule's own source text. */
  source: string;
}

export class CompileError extends Error {
  constructor(readonly file: string, readonly errors: { file: string; line: number; column: number; text: string }[]) {
    super(errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.text}`).join("\n") || `could not compile ${file}`);
    this.name = "CompileError";
  }
}

/** esbuild's message with its file made absolute (esbuild gives it relative to the schedule's folder). */
function location(m: Message, scheduleFile: string): { file: string; line: number; column: number; text: string } {
  const file = m.location?.file ? path.resolve(path.dirname(scheduleFile), m.location.file) : scheduleFile;
  return { file, line: m.location?.line ?? 1, column: (m.location?.column ?? 0) + 1, text: m.text };
}

export async function compileSchedule(file: string): Promise<CompiledSchedule> {
  const absolute = path.resolve(file);
  let source: string;
  try {
    source = await readFile(absolute, "utf8");
  } catch (err) {
    throw new CompileError(absolute, [{ file: absolute, line: 1, column: 1, text: `cannot read the schedule file: ${(err as Error).message}` }]);
  }
  let result;
  try {
    result = await build({
      entryPoints: [absolute],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      write: false,
      sourcemap: "inline",
      sourcesContent: true,
      metafile: true,
      external: ["rollout-studio"],
      logLevel: "silent",
      absWorkingDir: path.dirname(absolute),
    });
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors ?? [];
    throw new CompileError(absolute, errors.length ? errors.map((m) => location(m, absolute)) : [{ file: absolute, line: 1, column: 1, text: (err as Error).message }]);
  }
  const output = result.outputFiles[0];
  if (!output) throw new CompileError(absolute, [{ file: absolute, line: 1, column: 1, text: "esbuild produced no output" }]);
  const chunks: string[] = [];
  const inputs = Object.keys(result.metafile.inputs).sort();
  for (const input of inputs) {
    const inputPath = path.resolve(path.dirname(absolute), input);
    // The schedule file itself by role, not by name: a stored version written back out under another name
    // (rollback, replay) keeps its version.
    chunks.push(inputPath === absolute ? "<schedule>" : input, "\u0000", inputPath === absolute ? source : await readFile(inputPath, "utf8").catch(() => ""), "\u0000");
  }
  return { file: absolute, code: output.text, version: versionHash(chunks), source };
}
