// Attribution to code: which place in a schedule's source produced a component's value.
//
// Two levels. Every component of a schedule file is located at its score function (found once per
// version, in the compiled bundle, and mapped back to the TypeScript through the bundle's source map).
// A component that returns through `rule(value, why)` is located at that call: the branch that
// decided. Locations are only given for the user's schedule code, not for Rollout Studio's presets.

import { SourceMap } from "node:module";
import path from "node:path";
import type { Explained } from "./api";

/**
 * A place in a schedule's source: 1-based line and column. `file` is left out when it is the schedule
 * file itself (so records stay small) and is relative to the schedule's folder otherwise.
 */
export interface SourceLocation {
  file?: string;
  line: number;
  column: number;
}

const CALL_SITE = Symbol.for("rollout-studio.rule-call-site");

interface RawSite {
  file: string;
  /** 1-based, in the generated code. */
  line: number;
  column: number;
}

type Located = Explained & { [CALL_SITE]?: RawSite };

function callerSite(skip: (...args: never[]) => unknown): RawSite | undefined {
  const holder: { stack?: unknown } = {};
  const previous = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  // Raw call sites (generated positions): mapping them through the source map is done once per place, not per call.
  Error.prepareStackTrace = (_err, frames) => frames;
  Error.stackTraceLimit = 1;
  try {
    Error.captureStackTrace(holder, skip);
    const frame = (holder.stack as NodeJS.CallSite[] | undefined)?.[0];
    const file = frame?.getFileName();
    const line = frame?.getLineNumber();
    const column = frame?.getColumnNumber();
    return file && line && column ? { file, line, column } : undefined;
  } finally {
    Error.prepareStackTrace = previous;
    Error.stackTraceLimit = limit;
  }
}

/**
 * A component's value with its explanation, remembering where in the schedule it was decided, so the
 * rollout explorer can jump from the value to this line. Use it in place of `{ value, why }`.
 */
export function rule(value: number, why: string): Explained {
  const out: Located = { value, why };
  const site = callerSite(rule);
  if (site) Object.defineProperty(out, CALL_SITE, { value: site, enumerable: false });
  return out;
}

/** Maps generated positions of one compiled schedule back to its TypeScript source. */
export class ScheduleLocator {
  private readonly map: SourceMap | null;
  private readonly cache = new Map<string, SourceLocation | null>();
  private readonly lineStarts: number[] = [0];

  /** `bundleFile` is the schedule file the bundle was compiled from. */
  constructor(readonly bundleFile: string, private readonly code: string) {
    this.map = ScheduleLocator.inlineMap(code);
    for (let i = 0; i < code.length; i++) if (code.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  private static inlineMap(code: string): SourceMap | null {
    const match = /\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
    if (!match) return null;
    try {
      return new SourceMap(JSON.parse(Buffer.from(match[1] as string, "base64").toString("utf8")));
    } catch {
      return null;
    }
  }

  /** The original place of a 1-based generated position, or null when it is not in the user's sources. */
  locate(line: number, column: number): SourceLocation | null {
    const key = `${line}:${column}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    let found: SourceLocation | null = null;
    const entry = this.map?.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
    if (entry?.originalSource && entry.originalLine !== undefined && entry.originalColumn !== undefined && !entry.originalSource.includes("node_modules")) {
      const folder = path.dirname(this.bundleFile);
      const source = entry.originalSource.startsWith("file://") ? decodeURIComponent(new URL(entry.originalSource).pathname) : path.resolve(folder, entry.originalSource);
      found = { line: entry.originalLine + 1, column: entry.originalColumn + 1 };
      if (source !== this.bundleFile) found.file = path.relative(folder, source);
    }
    this.cache.set(key, found);
    return found;
  }

  /** Where a `rule(...)` result was made, when it was made in this schedule's code. */
  ruleSite(result: unknown): SourceLocation | null {
    const site = (result as Located | null)?.[CALL_SITE];
    if (!site || site.file !== this.bundleFile) return null;
    return this.locate(site.line, site.column);
  }

  /** Where a function is defined, found by its text in the bundle; `from` narrows the search to after an offset. */
  functionSite(fn: unknown, from = 0): { location: SourceLocation; offset: number } | null {
    if (typeof fn !== "function") return null;
    const text = Function.prototype.toString.call(fn);
    let offset = this.code.indexOf(text, from);
    if (offset < 0 && from > 0) offset = this.code.indexOf(text);
    if (offset < 0) return null;
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    const location = this.locate(lo + 1, offset - (this.lineStarts[lo] as number) + 1);
    return location ? { location, offset } : null;
  }
}
