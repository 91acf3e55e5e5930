// Reading a preset's options, from code (typed values) or from the command line (key=value strings).

export interface OptionSpec {
  default: string | number | boolean;
  choices?: readonly string[];
  doc: string;
}

export class OptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OptionError";
  }
}

function convert(preset: string, key: string, spec: OptionSpec, value: unknown): string | number | boolean {
  const kind = typeof spec.default;
  if (kind === "number") {
    const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    if (typeof n !== "number" || !Number.isFinite(n)) throw new OptionError(`${preset}: option ${key} must be a number, got ${JSON.stringify(value)}`);
    return n;
  }
  if (kind === "boolean") {
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "1" || value === 1) return true;
    if (value === "false" || value === "0" || value === 0) return false;
    throw new OptionError(`${preset}: option ${key} must be true or false, got ${JSON.stringify(value)}`);
  }
  if (typeof value !== "string") throw new OptionError(`${preset}: option ${key} must be a string, got ${JSON.stringify(value)}`);
  if (spec.choices && !spec.choices.includes(value)) {
    throw new OptionError(`${preset}: option ${key} must be one of ${spec.choices.join(", ")}; got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Fills defaults and checks every given option. An unknown key is an error that lists the known ones. */
export function readOptions<T>(preset: string, specs: { [key: string]: OptionSpec }, given: object): T {
  const out: { [key: string]: unknown } = {};
  for (const key of Object.keys(given)) {
    if (!(key in specs)) {
      throw new OptionError(`${preset}: unknown option "${key}"; known options: ${Object.keys(specs).join(", ")}`);
    }
  }
  for (const [key, spec] of Object.entries(specs)) {
    const value = (given as { [key: string]: unknown })[key];
    out[key] = value === undefined ? spec.default : convert(preset, key, spec, value);
  }
  return out as T;
}

/** Parses `key=value` strings from the command line. */
export function parseOptionArgs(args: readonly string[]): { [key: string]: string } {
  const out: { [key: string]: string } = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new OptionError(`--option expects key=value, got ${JSON.stringify(arg)}`);
    out[arg.slice(0, eq).trim()] = arg.slice(eq + 1).trim();
  }
  return out;
}
