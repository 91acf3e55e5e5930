// JSON as Python's `json` module reads and writes it.
//
// The papers' rewards run in Python: Tool-N1 compares calls by `json.dumps(args, sort_keys=True)`, so
// 40 and 40.0 differ, while ToolRL compares with `==`, so they are equal. JavaScript's JSON.parse loses
// that distinction, so this module reads JSON into a value model that keeps it:
//   - an integer literal becomes a number (a bigint beyond 2^53),
//   - a float literal becomes a number when its value is not integral (3.5 can only be a float),
//     and a Number object when it is integral or not finite (40.0, 1e2, NaN, Infinity),
//   - everything else is as JSON.parse gives it.
// Number objects survive structured cloning (worker messages) and still act as numbers in
// arithmetic and `==`, which keeps user reward code simple.
//
// No npm package reads JSON with Python's int/float split and its NaN/Infinity literals, so this is
// our own. A fast path hands text without such numbers to JSON.parse.

// eslint-disable-next-line @typescript-eslint/no-wrapper-object-types
export type PyFloat = Number;
export type PyValue = null | boolean | number | bigint | PyFloat | string | PyValue[] | { [key: string]: PyValue };

export class PyJsonError extends Error {
  readonly pos: number;
  readonly lineno: number;
  readonly colno: number;
  readonly msg: string;
  constructor(msg: string, text: string, pos: number) {
    let lineno = 1;
    let lineStart = 0;
    for (let i = text.indexOf("\n"); i !== -1 && i < pos; i = text.indexOf("\n", i + 1)) {
      lineno++;
      lineStart = i + 1;
    }
    const colno = pos - lineStart + 1;
    super(`${msg}: line ${lineno} column ${colno} (char ${pos})`);
    this.name = "PyJsonError";
    this.msg = msg;
    this.pos = pos;
    this.lineno = lineno;
    this.colno = colno;
  }
}

const toStringTag = Object.prototype.toString;

/** True for a value that Python would hold as a float written with an integral value (40.0) or a non-finite float. */
export function isPyFloatObject(value: unknown): value is PyFloat {
  return typeof value === "object" && value !== null && toStringTag.call(value) === "[object Number]";
}

/** True when Python would hold this value as a float. */
export function isPyFloat(value: unknown): boolean {
  if (typeof value === "number") return !Number.isInteger(value);
  return isPyFloatObject(value);
}

/** True when Python would hold this value as an int (bool excluded). */
export function isPyInt(value: unknown): boolean {
  return (typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint";
}

export function pyFloat(value: number): PyFloat {
  return new Number(value);
}

/** The plain JavaScript value: Number objects become numbers, bigints numbers. */
export function toPlain(value: PyValue): unknown {
  if (value === null || typeof value !== "object") return typeof value === "bigint" ? Number(value) : value;
  if (isPyFloatObject(value)) return value.valueOf();
  if (Array.isArray(value)) return value.map(toPlain);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = toPlain(value[key] as PyValue);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

const MAX_SAFE_DIGITS = 15; // integer literals this long or shorter are exact as doubles

/**
 * Finds the number tokens that JSON.parse would read differently from Python: float literals with an
 * integral or infinite value (40.0, 1e2, 1e400), integers too long for a double, and NaN/Infinity.
 * Returns their [start, end) offsets, flat, or null when the text has a token neither reader accepts.
 * Strings are skipped with one regular-expression match each, so typical payloads cost little.
 */
// A JSON string literal, escapes included (the "unrolled loop" form, fastest in V8).
const STRING_RE = /"[^"\\]*(?:\\.[^"\\]*)*"/y;

function ambiguousNumbers(text: string): number[] | null {
  const n = text.length;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      STRING_RE.lastIndex = i;
      if (!STRING_RE.test(text)) return null; // unterminated: let the full reader report it
      i = STRING_RE.lastIndex - 1;
      continue;
    }
    if (c === 78 /* N */ || c === 73 /* I */ || (c === 45 /* - */ && text.charCodeAt(i + 1) === 73)) {
      const word = c === 78 ? "NaN" : c === 73 ? "Infinity" : "-Infinity";
      if (!text.startsWith(word, i)) return null;
      out.push(i, i + word.length);
      i += word.length - 1;
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      let j = i + 1;
      let isFloat = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d >= 48 && d <= 57) continue;
        if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45) {
          isFloat = true;
          continue;
        }
        break;
      }
      if (isFloat) {
        const v = Number(text.slice(i, j));
        if (Number.isNaN(v)) return null;
        if (Number.isInteger(v) || !Number.isFinite(v)) out.push(i, j);
      } else if (j - i - (c === 45 ? 1 : 0) > MAX_SAFE_DIGITS) out.push(i, j);
      i = j - 1;
    }
  }
  return out;
}

/** The value of a number literal as the full reader gives it. */
function numberValue(token: string): PyValue {
  if (token === "NaN") return pyFloat(NaN);
  if (token === "Infinity") return pyFloat(Infinity);
  if (token === "-Infinity") return pyFloat(-Infinity);
  if (!/[.eE]/.test(token)) {
    const big = BigInt(token);
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) return big;
    return Number(big);
  }
  return pyFloat(Number(token));
}

// A sentinel as JSON text (escaped: JSON strings cannot hold raw control characters) and as the string it reads as.
const SENTINEL_JSON = "\\u0001rs-num:";
const SENTINEL = "\u0001rs-num:";

/** Puts the numbers back where sentinels stand; counts them so a look-alike string cannot pass for one. */
function revive(value: unknown, found: { n: number }): PyValue {
  if (typeof value === "string") {
    if (value.startsWith(SENTINEL)) {
      found.n++;
      return numberValue(value.slice(SENTINEL.length));
    }
    return value;
  }
  if (value === null || typeof value !== "object") return value as PyValue;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i], found);
    return value;
  }
  const obj = value as { [k: string]: unknown };
  for (const k in obj) obj[k] = revive(obj[k], found);
  return obj as PyValue;
}

/**
 * Parses JSON text the way Python's `json.loads` does. Throws PyJsonError with Python's message and position.
 * Text without ambiguous numbers goes to JSON.parse as it is; ambiguous number tokens are swapped for
 * sentinel strings first and read back after; anything else goes to the full reader.
 */
export function parsePyJson(text: string): PyValue {
  // Malformed JSON is expected here (model output): skip capturing stack traces for it, which costs
  // more than the parse.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const ambiguous = ambiguousNumbers(text);
    if (ambiguous !== null) {
      try {
        if (ambiguous.length === 0) return JSON.parse(text) as PyValue;
        let rewritten = "";
        let from = 0;
        for (let k = 0; k < ambiguous.length; k += 2) {
          const start = ambiguous[k] as number;
          const end = ambiguous[k + 1] as number;
          rewritten += text.slice(from, start) + '"' + SENTINEL_JSON + text.slice(start, end) + '"';
          from = end;
        }
        rewritten += text.slice(from);
        const found = { n: 0 };
        const value = revive(JSON.parse(rewritten), found);
        if (found.n === ambiguous.length / 2) return value;
        // A string of the input looked like a sentinel: read the text the slow, certain way.
      } catch {
        // fall through: the full reader produces Python's error message and position
      }
    }
    return new Reader(text).readDocument();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The full reader alone (no fast path): the reference the fast path is tested against. */
export function parsePyJsonFully(text: string): PyValue {
  return new Reader(text).readDocument();
}

const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

class Reader {
  private pos = 0;
  constructor(private readonly text: string) {}

  readDocument(): PyValue {
    this.skipWhitespace();
    const value = this.readValue();
    this.skipWhitespace();
    if (this.pos !== this.text.length) throw new PyJsonError("Extra data", this.text, this.pos);
    return value;
  }

  private skipWhitespace(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 32 || c === 10 || c === 13 || c === 9) p++;
      else break;
    }
    this.pos = p;
  }

  private readValue(): PyValue {
    const t = this.text;
    const p = this.pos;
    const c = t.charCodeAt(p);
    if (c === 34) return this.readString();
    if (c === 123) return this.readObject();
    if (c === 91) return this.readArray();
    if (c === 110 && t.startsWith("null", p)) return (this.pos += 4), null;
    if (c === 116 && t.startsWith("true", p)) return (this.pos += 4), true;
    if (c === 102 && t.startsWith("false", p)) return (this.pos += 5), false;
    NUMBER_RE.lastIndex = p;
    const m = NUMBER_RE.exec(t);
    if (m) {
      this.pos = p + m[0].length;
      if (m[1] === undefined && m[2] === undefined) {
        const digits = m[0].length - (c === 45 ? 1 : 0);
        if (digits > MAX_SAFE_DIGITS) {
          const big = BigInt(m[0]);
          if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) return big;
          return Number(big);
        }
        const v = Number(m[0]);
        return v === 0 ? 0 : v; // Python has no negative integer zero
      }
      const v = Number(m[0]);
      return Number.isInteger(v) || !Number.isFinite(v) ? pyFloat(v) : v;
    }
    if (c === 78 && t.startsWith("NaN", p)) return (this.pos += 3), pyFloat(NaN);
    if (c === 73 && t.startsWith("Infinity", p)) return (this.pos += 8), pyFloat(Infinity);
    if (c === 45 && t.startsWith("-Infinity", p)) return (this.pos += 9), pyFloat(-Infinity);
    throw new PyJsonError("Expecting value", t, p);
  }

  private readString(): string {
    const t = this.text;
    const begin = this.pos; // at the opening quote
    let p = begin + 1;
    let out = "";
    let chunkStart = p;
    for (;;) {
      if (p >= t.length) throw new PyJsonError("Unterminated string starting at", t, begin);
      const c = t.charCodeAt(p);
      if (c === 34) {
        out += t.slice(chunkStart, p);
        this.pos = p + 1;
        return out;
      }
      if (c < 32) throw new PyJsonError("Invalid control character at", t, p);
      if (c !== 92) {
        p++;
        continue;
      }
      out += t.slice(chunkStart, p);
      const e = t.charAt(p + 1);
      if (e === "") throw new PyJsonError("Unterminated string starting at", t, begin);
      if (e === "u") {
        const code = this.readHex4(p);
        let cp = code;
        p += 6;
        // A high surrogate followed by an escaped low surrogate is one code point, as in Python.
        if (code >= 0xd800 && code <= 0xdbff && t.charCodeAt(p) === 92 && t.charAt(p + 1) === "u") {
          const low = this.readHex4(p);
          if (low >= 0xdc00 && low <= 0xdfff) {
            cp = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
            p += 6;
          }
        }
        out += cp > 0xffff ? String.fromCodePoint(cp) : String.fromCharCode(cp);
      } else {
        const mapped = ESCAPES[e];
        if (mapped === undefined) throw new PyJsonError(`Invalid \\escape: '${e}'`, t, p);
        out += mapped;
        p += 2;
      }
      chunkStart = p;
    }
  }

  private readHex4(backslashAt: number): number {
    const hex = this.text.slice(backslashAt + 2, backslashAt + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PyJsonError("Invalid \\uXXXX escape", this.text, backslashAt + 1);
    return parseInt(hex, 16);
  }

  private readObject(): { [key: string]: PyValue } {
    const t = this.text;
    const out: { [key: string]: PyValue } = {};
    this.pos++;
    this.skipWhitespace();
    if (t.charCodeAt(this.pos) === 125) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (t.charCodeAt(this.pos) !== 34) {
        throw new PyJsonError("Expecting property name enclosed in double quotes", t, this.pos);
      }
      const key = this.readString();
      this.skipWhitespace();
      if (t.charCodeAt(this.pos) !== 58) throw new PyJsonError("Expecting ':' delimiter", t, this.pos);
      this.pos++;
      this.skipWhitespace();
      const value = this.readValue();
      // defineProperty keeps a "__proto__" key an ordinary key, as JSON.parse does
      if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
      this.skipWhitespace();
      const c = t.charCodeAt(this.pos);
      if (c === 125) {
        this.pos++;
        return out;
      }
      if (c !== 44) throw new PyJsonError("Expecting ',' delimiter", t, this.pos);
      this.pos++;
      this.skipWhitespace();
    }
  }

  private readArray(): PyValue[] {
    const t = this.text;
    const out: PyValue[] = [];
    this.pos++;
    this.skipWhitespace();
    if (t.charCodeAt(this.pos) === 93) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.readValue());
      this.skipWhitespace();
      const c = t.charCodeAt(this.pos);
      if (c === 93) {
        this.pos++;
        return out;
      }
      if (c !== 44) throw new PyJsonError("Expecting ',' delimiter", t, this.pos);
      this.pos++;
      this.skipWhitespace();
    }
  }
}

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

// ---------------------------------------------------------------------------------------------
// Writing and comparing

/** Python's repr() of a float, which json.dumps uses: shortest round-trip digits, '.0' for integral values. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

const NON_PRINTABLE_ASCII = /[^\x20-\x7e]/g;

function pyDumpString(s: string): string {
  const quoted = JSON.stringify(s);
  NON_PRINTABLE_ASCII.lastIndex = 0;
  if (!NON_PRINTABLE_ASCII.test(quoted)) return quoted;
  return quoted.replace(NON_PRINTABLE_ASCII, (ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0"));
}

/**
 * `json.dumps(value, sort_keys=...)` with Python's default separators and ensure_ascii. Keys are sorted
 * by code unit; that differs from Python only for characters beyond U+FFFF, and the result is used to
 * compare values, where any fixed order does.
 */
export function pyDumps(value: PyValue, sortKeys = false): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return pyDumpString(value);
    case "number":
      return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "object":
      break;
    default:
      throw new TypeError(`Object of type ${typeof value} is not JSON serializable`);
  }
  if (isPyFloatObject(value)) return pyFloatRepr(value.valueOf());
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? ", " : "") + pyDumps(value[i] as PyValue, sortKeys);
    return out + "]";
  }
  const dict = value as { [key: string]: PyValue };
  const keys = Object.keys(dict);
  if (keys.length === 0) return "{}";
  if (sortKeys) keys.sort();
  let out = "{";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    out += (i ? ", " : "") + pyDumpString(key) + ": " + pyDumps(dict[key] as PyValue, sortKeys);
  }
  return out + "}";
}

/**
 * A text that is equal for two values exactly when `json.dumps(v, sort_keys=True)` is: what exact
 * matching compares. Cheaper than pyDumps (no ensure_ascii escaping, JavaScript's float text).
 */
export function pyCanonical(value: PyValue): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isInteger(value) ? String(value) : String(value) + "f";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "object":
      break;
    default:
      throw new TypeError(`Object of type ${typeof value} is not JSON serializable`);
  }
  if (isPyFloatObject(value)) {
    const v = value.valueOf();
    return (Object.is(v, -0) ? "-0" : String(v)) + "f";
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i ? "," : "") + pyCanonical(value[i] as PyValue);
    return out + "]";
  }
  const dict = value as { [key: string]: PyValue };
  const keys = Object.keys(dict);
  if (keys.length > 1) keys.sort();
  let out = "{";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    out += (i ? "," : "") + JSON.stringify(key) + ":" + pyCanonical(dict[key] as PyValue);
  }
  return out + "}";
}

/**
 * Whether `json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)`, decided without writing
 * either: same JSON types (an int is not a float, a bool is not an int), same values, same keys.
 */
export function pyDumpsEqual(a: PyValue, b: PyValue): boolean {
  if (a === b) return true; // same string, bool, null, int or object (a float NaN is never a plain number from JSON)
  const ta = typeof a;
  if (ta === "number" || ta === "bigint") {
    // Plain numbers: ints are integral, floats are not, so different plain values differ in text.
    if (typeof b === "bigint" || typeof b === "number") return ta === "bigint" && typeof b === "bigint" ? a === b : false;
    return false;
  }
  if (a === null || b === null || ta !== "object" || typeof b !== "object") return false;
  const aFloat = isPyFloatObject(a);
  if (aFloat || isPyFloatObject(b)) {
    if (!aFloat || !isPyFloatObject(b)) return false;
    return pyFloatRepr((a as PyFloat).valueOf()) === pyFloatRepr((b as PyFloat).valueOf());
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!pyDumpsEqual(a[i] as PyValue, b[i] as PyValue)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const da = a as { [key: string]: PyValue };
  const db = b as { [key: string]: PyValue };
  let n = 0;
  for (const k in da) {
    if (!Object.prototype.hasOwnProperty.call(db, k) || !pyDumpsEqual(da[k] as PyValue, db[k] as PyValue)) return false;
    n++;
  }
  return n === Object.keys(db).length;
}

function numericValue(v: unknown): number | bigint | undefined {
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (isPyFloatObject(v)) return v.valueOf();
  return undefined;
}

function numbersEqual(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === typeof b) return a === b;
  const [big, num] = (typeof a === "bigint" ? [a, b] : [b, a]) as [bigint, number];
  return Number.isInteger(num) && BigInt(num) === big;
}

/** Python's `==` on values read from JSON: 1 == 1.0 == True, dicts ignore key order. */
export function pyEquals(a: PyValue, b: PyValue): boolean {
  if (a === b) return typeof a !== "number" || !Number.isNaN(a);
  const na = numericValue(a);
  if (na !== undefined) {
    const nb = numericValue(b);
    return nb !== undefined && numbersEqual(na, nb);
  }
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object" || isPyFloatObject(b)) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!pyEquals(a[i] as PyValue, b[i] as PyValue)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!pyEquals((a as Record<string, PyValue>)[k] as PyValue, (b as Record<string, PyValue>)[k] as PyValue)) return false;
  }
  return true;
}

/** Python's type name for a value read from JSON, as error messages and explanations use it. */
export function pyTypeName(value: PyValue): string {
  if (value === null) return "None";
  switch (typeof value) {
    case "string":
      return "str";
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return Number.isInteger(value) ? "int" : "float";
  }
  if (isPyFloatObject(value)) return "float";
  return Array.isArray(value) ? "list" : "dict";
}

/**
 * A key that is equal for two values exactly when Python's hash-and-== would put them in the same
 * Counter slot. Lists and dicts are unhashable in Python: this throws a TypeError for them, as Python does.
 */
export function pyHashKey(value: PyValue): string {
  if (value === null) return "N";
  if (typeof value === "string") return "s" + value;
  const n = numericValue(value);
  if (n !== undefined) {
    if (typeof n === "bigint") return "n" + n.toString();
    return Number.isNaN(n) ? "nan" + Math.random() : "n" + (Object.is(n, -0) ? 0 : n);
  }
  throw new TypeError(`unhashable type: '${pyTypeName(value)}'`);
}
