// Loading a compiled schedule bundle as a module whose `require("rollout-studio")` is this runtime's
// API, so a schedule's objects and the runtime's are the same classes. Used by the reward worker and by
// \`rollout-studio debug-sample\` (which runs a schedule on the main thread, for the debugger).

import Module from "node:module";
import path from "node:path";
import { isSchedule, type AnySchedule } from "../api";
import * as publicApi from "../index";

/** Runs the bundle and returns its default export. */
export function loadBundleDefault(code: string, filename: string): unknown {
  const mod = new Module(filename) as Module & { _compile(code: string, filename: string): void; paths: string[] };
  mod.filename = filename;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(filename));
  const nodeRequire = Module.createRequire(filename);
  // makeRequireFunction (inside _compile) calls mod.require, so this is what the bundle's require() reaches.
  mod.require = ((id: string) => (id === "rollout-studio" ? publicApi : nodeRequire(id))) as NodeJS.Require;
  mod._compile(code, filename);
  const exports = mod.exports as { default?: unknown };
  return exports.default ?? exports;
}

/** Runs the bundle and returns its default export, which must be a schedule; throws with what to fix. */
export function loadScheduleBundle(code: string, filename: string): AnySchedule {
  const loaded = loadBundleDefault(code, filename);
  if (!isSchedule(loaded)) {
    throw new Error('the schedule file must `export default defineSchedule({...})` (imported from "rollout-studio"); its default export is ' + (loaded === undefined ? "missing" : `a ${typeof loaded}`));
  }
  return loaded;
}
