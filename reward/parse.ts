// Turning a completion into tool calls, or into a typed parse failure with a reason.

import { isPyFloatObject, parsePyJson, PyJsonError, pyTypeName, type PyValue } from "./pyjson";
import { pyStrip } from "./pytext";

export interface ToolCall {
  name: string;
  arguments: { [key: string]: PyValue };
}

export type ParseFailureReason =
  | "empty" // nothing after template stripping
  | "no_tag" // no <tool_call> block
  | "unclosed_tag" // <tool_call> without its closing tag
  | "bad_json" // the payload is not valid JSON (position given)
  | "bad_python" // the payload is not valid Python call syntax (position given)
  | "not_a_list" // the payload is JSON but not a call or a list of calls
  | "not_a_call" // an item of the list is not an object
  | "missing_name" // a call has no string "name"
  | "missing_arguments" // a call has no "arguments" (or "parameters")
  | "bad_arguments"; // "arguments" is not an object

export const PARSE_FAILURE_REASONS: readonly ParseFailureReason[] = [
  "empty", "no_tag", "unclosed_tag", "bad_json", "bad_python", "not_a_list", "not_a_call", "missing_name",
  "missing_arguments", "bad_arguments",
];

export interface ParseFailure {
  reason: ParseFailureReason;
  message: string;
  /** Where the problem is, for bad_json and bad_python: line and column (1-based) within the tool-call payload, offset into the assistant text. */
  position?: { line: number; column: number; offset: number };
  /** Index of the offending call, for item-level reasons. */
  callIndex?: number;
}

export type CallStyle = "json-list" | "jsonl" | "hermes" | "python";

export interface ParsedCompletion {
  /** The assistant's text after chat-template stripping. */
  text: string;
  think: string | null;
  response: string | null;
  calls: ToolCall[] | null;
  failure: ParseFailure | null;
  style: CallStyle | null;
}

// ---------------------------------------------------------------------------------------------
// Chat templates

export type ChatTemplate = "auto" | "qwen" | "llama" | "none";

const QWEN_START = "<|im_start|>assistant";
const QWEN_END = "<|im_end|>";
const LLAMA_START = "<|start_header_id|>assistant<|end_header_id|>";
const LLAMA_END = "<|eot_id|>";

/**
 * The last assistant turn of a templated completion, cut at its end marker and stripped. A plain
 * completion (a base model's) comes back stripped. "auto" recognises Qwen/ChatML and Llama 3 markers.
 */
export function stripChatTemplate(text: string, template: ChatTemplate = "auto"): string {
  if (template === "none") return pyStrip(text);
  if (template === "qwen" || (template === "auto" && text.includes("<|im_"))) {
    return pyStrip(afterLast(text, QWEN_START).split(QWEN_END)[0] as string);
  }
  if (template === "llama" || (template === "auto" && text.includes("<|start_header_id|>"))) {
    return pyStrip(afterLast(text, LLAMA_START).split(LLAMA_END)[0] as string);
  }
  return pyStrip(text);
}

function afterLast(text: string, marker: string): string {
  const i = text.lastIndexOf(marker);
  return i === -1 ? text : text.slice(i + marker.length);
}

// ---------------------------------------------------------------------------------------------
// Tags

export interface TagBlock {
  content: string;
  /** Offset of the content in the searched text. */
  start: number;
}

/** Every `<tag>…</tag>` block, leftmost first, non-overlapping: Python's `re.finditer(r"<tag>(.*?)</tag>", s, re.DOTALL)`. */
export function tagBlocks(text: string, tag: string): TagBlock[] {
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  const out: TagBlock[] = [];
  let from = 0;
  for (;;) {
    const s = text.indexOf(open, from);
    if (s === -1) break;
    const e = text.indexOf(close, s + open.length);
    if (e === -1) break;
    out.push({ content: text.slice(s + open.length, e), start: s + open.length });
    from = e + close.length;
  }
  return out;
}

/** The text of the first `<tag>…</tag>` block, or null. */
export function firstTag(text: string, tag: string): string | null {
  const open = `<${tag}>`;
  const s = text.indexOf(open);
  if (s === -1) return null;
  const e = text.indexOf(`</${tag}>`, s + open.length);
  return e === -1 ? null : text.slice(s + open.length, e);
}

/** Why there is no complete block: "unclosed_tag" when an opening tag is there, else "no_tag". */
export function missingTagFailure(text: string, tag: string): ParseFailure {
  return text.includes(`<${tag}>`)
    ? { reason: "unclosed_tag", message: `<${tag}> is opened but never closed with </${tag}>` }
    : { reason: "no_tag", message: `no <${tag}>…</${tag}> block in the completion` };
}

// ---------------------------------------------------------------------------------------------
// Payloads

export function jsonFailure(err: unknown, payloadOffset = 0): ParseFailure {
  if (err instanceof PyJsonError) {
    return {
      reason: "bad_json",
      message: `invalid JSON in the tool call: ${err.message}`,
      position: { line: err.lineno, column: err.colno, offset: payloadOffset + err.pos },
    };
  }
  return { reason: "bad_json", message: `invalid JSON in the tool call: ${String(err)}` };
}

/**
 * One call object as the general parser accepts it: a string "name" and an object of arguments under
 * "arguments" or "parameters" (a JSON string holding an object is read too, as OpenAI-style APIs send it).
 */
export function toToolCall(item: PyValue, index: number): ToolCall | ParseFailure {
  if (item === null || typeof item !== "object" || Array.isArray(item) || isPyFloatObject(item)) {
    return { reason: "not_a_call", message: `call ${index + 1} is a ${pyTypeName(item)}, not an object with "name" and "arguments"`, callIndex: index };
  }
  const obj = item as { [key: string]: PyValue };
  const name = obj.name;
  if (typeof name !== "string") {
    return name === undefined
      ? { reason: "missing_name", message: `call ${index + 1} has no "name"`, callIndex: index }
      : { reason: "missing_name", message: `call ${index + 1} has a ${pyTypeName(name)} "name", not a string`, callIndex: index };
  }
  let args = "arguments" in obj ? obj.arguments : obj.parameters;
  if (args === undefined) {
    return { reason: "missing_arguments", message: `call ${index + 1} (${name}) has no "arguments"`, callIndex: index };
  }
  if (typeof args === "string") {
    try {
      args = parsePyJson(args);
    } catch {
      return { reason: "bad_arguments", message: `call ${index + 1} (${name}) has "arguments" that is a string, not an object`, callIndex: index };
    }
  }
  if (args === null || typeof args !== "object" || Array.isArray(args) || isPyFloatObject(args)) {
    return { reason: "bad_arguments", message: `call ${index + 1} (${name}) has "arguments" that is a ${pyTypeName(args as PyValue)}, not an object`, callIndex: index };
  }
  return { name, arguments: args as { [key: string]: PyValue } };
}

export function isParseFailure(x: unknown): x is ParseFailure {
  return typeof x === "object" && x !== null && "reason" in x && "message" in x;
}

/** A JSON payload holding a list of calls or one call; a JSON string payload is read again. */
export function callsFromJsonValue(value: PyValue): ToolCall[] | ParseFailure {
  if (typeof value === "string") {
    try {
      value = parsePyJson(value);
    } catch (err) {
      return { ...jsonFailure(err), message: `the tool call is a JSON string whose content is not JSON: ${(err as Error).message}` };
    }
  }
  const items = Array.isArray(value) ? value : value !== null && typeof value === "object" && !isPyFloatObject(value) ? [value] : null;
  if (items === null) return { reason: "not_a_list", message: `the tool call holds a ${pyTypeName(value)}, not a list of calls` };
  const calls: ToolCall[] = [];
  for (let i = 0; i < items.length; i++) {
    const call = toToolCall(items[i] as PyValue, i);
    if (isParseFailure(call)) return call;
    calls.push(call);
  }
  return calls;
}

/** JSON Lines of calls, one object per non-blank line (ToolRL's block). */
export function callsFromJsonLines(payload: string, payloadOffset = 0): ToolCall[] | ParseFailure {
  const calls: ToolCall[] = [];
  let offset = 0;
  for (const line of payload.split("\n")) {
    const lineOffset = offset;
    offset += line.length + 1;
    if (pyStrip(line) === "") continue;
    let value: PyValue;
    try {
      value = parsePyJson(line);
    } catch (err) {
      const failure = jsonFailure(err, payloadOffset + lineOffset);
      if (failure.position) failure.position.line = lineNumberAt(payload, lineOffset) + failure.position.line - 1;
      return failure;
    }
    const call = toToolCall(value, calls.length);
    if (isParseFailure(call)) return call;
    calls.push(call);
  }
  return calls;
}

function lineNumberAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

// ---------------------------------------------------------------------------------------------
// Python call syntax: [get_weather(city="Paris", days=3), search(q='x')]

class PythonSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

/** Calls written in Python syntax, as BFCL and ToolACE ground truths are. Keyword arguments only. */
export function parsePythonCalls(source: string): ToolCall[] | ParseFailure {
  const p = new PythonCallReader(source);
  try {
    return p.readCalls();
  } catch (err) {
    if (err instanceof PythonSyntaxError) {
      const line = lineNumberAt(source, err.offset);
      const column = err.offset - (source.lastIndexOf("\n", err.offset - 1) + 1) + 1;
      return { reason: "bad_python", message: `invalid Python call syntax: ${err.message} at line ${line} column ${column}`, position: { line, column, offset: err.offset } };
    }
    throw err;
  }
}

const IDENT_RE = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const PY_NUMBER_RE = /[-+]?(?:\d[\d_]*\.?[\d_]*(?:[eE][-+]?\d+)?|\.\d[\d_]*(?:[eE][-+]?\d+)?)/y;

class PythonCallReader {
  private pos = 0;
  constructor(private readonly src: string) {}

  readCalls(): ToolCall[] {
    this.ws();
    const calls: ToolCall[] = [];
    if (this.peek() === "[") {
      this.pos++;
      this.commaList("]", () => calls.push(this.readCall()));
    } else {
      // Bare calls: f(a=1) or f(a=1), g(b=2)
      for (;;) {
        calls.push(this.readCall());
        this.ws();
        if (this.peek() !== ",") break;
        this.pos++;
        this.ws();
      }
    }
    this.ws();
    if (this.pos !== this.src.length) throw new PythonSyntaxError(`unexpected ${JSON.stringify(this.src.slice(this.pos, this.pos + 10))}`, this.pos);
    return calls;
  }

  private readCall(): ToolCall {
    IDENT_RE.lastIndex = this.pos;
    const m = IDENT_RE.exec(this.src);
    if (!m) throw new PythonSyntaxError("expected a function name", this.pos);
    const name = m[0];
    this.pos += name.length;
    this.ws();
    this.expect("(");
    const args: { [key: string]: PyValue } = {};
    this.commaList(")", () => {
      IDENT_RE.lastIndex = this.pos;
      const k = IDENT_RE.exec(this.src);
      const eq = k ? this.src.indexOf("=", this.pos + k[0].length) : -1;
      if (!k || k[0].includes(".") || this.src.slice(this.pos + k[0].length, eq).trim() !== "" || this.src[eq + 1] === "=") {
        throw new PythonSyntaxError(`${name}: expected a keyword argument (name=value); positional arguments are not supported`, this.pos);
      }
      this.pos = eq + 1;
      this.ws();
      args[k[0]] = this.readValue();
    });
    return { name, arguments: args };
  }

  private readValue(): PyValue {
    const c = this.peek();
    if (c === '"' || c === "'") return this.readString();
    if (c === "[" || c === "(") return this.readSequence(c === "[" ? "]" : ")");
    if (c === "{") return this.readDict();
    for (const [word, value] of [["True", true], ["False", false], ["None", null]] as const) {
      if (this.src.startsWith(word, this.pos) && !/[A-Za-z0-9_]/.test(this.src[this.pos + word.length] ?? "")) {
        this.pos += word.length;
        return value;
      }
    }
    PY_NUMBER_RE.lastIndex = this.pos;
    const m = PY_NUMBER_RE.exec(this.src);
    if (m && m[0] !== "-" && m[0] !== "+") {
      this.pos += m[0].length;
      const text = m[0].replace(/_/g, "");
      const v = Number(text);
      if (Number.isNaN(v)) throw new PythonSyntaxError(`bad number ${m[0]}`, this.pos - m[0].length);
      const isFloat = /[.eE]/.test(text);
      if (!isFloat && !Number.isSafeInteger(v)) return BigInt(text);
      return isFloat && Number.isInteger(v) ? new Number(v) : v === 0 ? 0 : v;
    }
    throw new PythonSyntaxError("expected a Python literal", this.pos);
  }

  private readString(): string {
    const quote = this.peek();
    const triple = this.src.startsWith(quote.repeat(3), this.pos);
    const delim = triple ? quote.repeat(3) : quote;
    const begin = this.pos;
    this.pos += delim.length;
    let out = "";
    for (;;) {
      if (this.pos >= this.src.length) throw new PythonSyntaxError("unterminated string", begin);
      if (this.src.startsWith(delim, this.pos)) {
        this.pos += delim.length;
        return out;
      }
      const ch = this.src[this.pos] as string;
      if (ch === "\n" && !triple) throw new PythonSyntaxError("unterminated string", begin);
      if (ch !== "\\") {
        out += ch;
        this.pos++;
        continue;
      }
      const e = this.src[this.pos + 1] ?? "";
      const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0", b: "\b", f: "\f", "\n": "" };
      if (e in simple) {
        out += simple[e];
        this.pos += 2;
      } else if (e === "u" || e === "x") {
        const len = e === "u" ? 4 : 2;
        const hex = this.src.slice(this.pos + 2, this.pos + 2 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new PythonSyntaxError(`bad \\${e} escape`, this.pos);
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 2 + len;
      } else {
        out += "\\"; // Python keeps unknown escapes as written
        this.pos++;
      }
    }
  }

  private readSequence(close: string): PyValue[] {
    this.pos++;
    const out: PyValue[] = [];
    this.commaList(close, () => out.push(this.readValue()));
    return out;
  }

  private readDict(): { [key: string]: PyValue } {
    this.pos++;
    const out: { [key: string]: PyValue } = {};
    this.commaList("}", () => {
      const key = this.readValue();
      if (typeof key !== "string") throw new PythonSyntaxError("only string keys are supported in dict literals", this.pos);
      this.ws();
      this.expect(":");
      this.ws();
      out[key] = this.readValue();
    });
    return out;
  }

  /** Reads `item, item, …` up to the closing character (a trailing comma allowed, as in Python) and consumes it. */
  private commaList(close: string, item: () => void): void {
    for (;;) {
      this.ws();
      if (this.peek() === close) break;
      item();
      this.ws();
      if (this.peek() !== ",") break;
      this.pos++;
    }
    this.ws();
    this.expect(close);
  }

  private peek(): string {
    return this.src[this.pos] ?? "";
  }

  private ws(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos] as string)) this.pos++;
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) {
      throw new PythonSyntaxError(`expected '${ch}' but found ${this.pos < this.src.length ? JSON.stringify(this.peek()) : "the end"}`, this.pos);
    }
    this.pos++;
  }
}

// ---------------------------------------------------------------------------------------------
// The general parser

export interface ParseOptions {
  template?: ChatTemplate;
  /** How the calls are written. "auto" tries the styles in turn. */
  style?: CallStyle | "auto";
  /** The tag around calls; "tool_call" in all three papers' templates. */
  callTag?: string;
  /** Which block counts when there are several (json-list, jsonl, python); hermes reads them all. */
  block?: "last" | "first";
}

const PY_CALL_START = /^\[?\s*[A-Za-z_][A-Za-z0-9_.]*\s*\(/;

/**
 * Parses a completion of any of the supported styles:
 * - json-list (Tool-N1): the last `<tool_call>` holds a JSON list of {name, arguments} (one object is wrapped,
 *   a JSON string is read again);
 * - jsonl (ToolRL): JSON Lines of {name, parameters} inside one `<tool_call>`;
 * - hermes (Qwen/Hermes): one JSON object in each of several `<tool_call>` blocks;
 * - python (BFCL, ToolACE): `[f(a=1), g(b="x")]`, in a tag or as the whole completion.
 */
export function parseCompletion(completion: string, options: ParseOptions = {}): ParsedCompletion {
  const text = stripChatTemplate(completion, options.template ?? "auto");
  const tag = options.callTag ?? "tool_call";
  const think = firstTag(text, "think");
  const response = firstTag(text, "response");
  const base = { text, think, response };
  if (text === "") return { ...base, calls: null, failure: { reason: "empty", message: "the completion is empty" }, style: null };
  const style = options.style ?? "auto";
  const blocks = tagBlocks(text, tag);

  if (blocks.length === 0) {
    // A base model may write calls without tags; Python call syntax is unambiguous enough to accept.
    const bare = think !== null ? pyStrip(text.slice(text.indexOf("</think>") + 8)) : text;
    if ((style === "auto" || style === "python") && PY_CALL_START.test(bare)) {
      const calls = parsePythonCalls(bare);
      return isParseFailure(calls) ? { ...base, calls: null, failure: calls, style: "python" } : { ...base, calls, failure: null, style: "python" };
    }
    return { ...base, calls: null, failure: missingTagFailure(text, tag), style: null };
  }

  const chosen = (options.block ?? "last") === "last" ? blocks[blocks.length - 1] as TagBlock : blocks[0] as TagBlock;
  const payload = pyStrip(chosen.content);
  const payloadOffset = chosen.start + chosen.content.indexOf(payload);

  if (style === "hermes" || (style === "auto" && blocks.length > 1 && blocks.every((b) => pyStrip(b.content).startsWith("{")))) {
    const calls: ToolCall[] = [];
    for (const block of blocks) {
      const body = pyStrip(block.content);
      let value: PyValue;
      try {
        value = parsePyJson(body);
      } catch (err) {
        return { ...base, calls: null, failure: jsonFailure(err, block.start + block.content.indexOf(body)), style: "hermes" };
      }
      const got = callsFromJsonValue(value);
      if (isParseFailure(got)) return { ...base, calls: null, failure: got, style: "hermes" };
      calls.push(...got);
    }
    return { ...base, calls, failure: null, style: "hermes" };
  }

  if (style === "python" || (style === "auto" && PY_CALL_START.test(payload))) {
    const calls = parsePythonCalls(payload);
    return isParseFailure(calls) ? { ...base, calls: null, failure: calls, style: "python" } : { ...base, calls, failure: null, style: "python" };
  }

  if (style === "jsonl") {
    const calls = callsFromJsonLines(payload, payloadOffset);
    return isParseFailure(calls) ? { ...base, calls: null, failure: calls, style: "jsonl" } : { ...base, calls, failure: null, style: "jsonl" };
  }

  let value: PyValue;
  try {
    value = parsePyJson(payload);
  } catch (err) {
    // Several JSON objects on separate lines are ToolRL's JSON Lines.
    if (style === "auto" && payload.includes("\n")) {
      const calls = callsFromJsonLines(payload, payloadOffset);
      if (!isParseFailure(calls)) return { ...base, calls, failure: null, style: "jsonl" };
    }
    return { ...base, calls: null, failure: jsonFailure(err, payloadOffset), style: "json-list" };
  }
  const calls = callsFromJsonValue(value);
  return isParseFailure(calls) ? { ...base, calls: null, failure: calls, style: "json-list" } : { ...base, calls, failure: null, style: "json-list" };
}

/**
 * Ground truth in any of the forms the papers ship: a list of calls (or its JSON text), ToolRL's tagged
 * target string (calls in its `<tool_call>` block, none when it only has a `<response>`), or Python call syntax.
 */
export function parseGroundTruth(groundTruth: unknown): ToolCall[] | ParseFailure {
  if (typeof groundTruth === "string") {
    const s = pyStrip(groundTruth);
    if (s.includes("<tool_call>") || s.includes("<response>") || s.includes("<think>")) {
      const block = firstTag(s, "tool_call");
      if (block === null) return s.includes("<tool_call>") ? missingTagFailure(s, "tool_call") : [];
      return callsFromJsonLines(pyStrip(block));
    }
    if (PY_CALL_START.test(s)) return parsePythonCalls(s);
    try {
      return callsFromJsonValue(parsePyJson(s));
    } catch (err) {
      return jsonFailure(err);
    }
  }
  if (Array.isArray(groundTruth) || (groundTruth !== null && typeof groundTruth === "object")) {
    return callsFromJsonValue(groundTruth as PyValue);
  }
  return { reason: "not_a_list", message: `the ground truth is a ${groundTruth === null ? "null" : typeof groundTruth}, not a list of calls` };
}
