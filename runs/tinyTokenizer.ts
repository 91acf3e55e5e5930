// The tiny policy's tokenizer in TypeScript, for sampling in the extension host (the playground): the same
// ids as engine/rollout_engine/tokenizer.py for every text (test/fixtures/playground/cases.json checks it).
// Pieces: tags, runs of ASCII letters, underscores, single digits, single whitespace characters, and runs
// of other characters (but `<`) with an optional leading space; a known piece is one token, an unknown
// punctuation run goes character by character, anything else as its UTF-8 bytes. In the "cased-words" split
// a capitalized word whose lowercase is a piece is the capital marker and that piece ("Timer" is ⇧ timer).

import fs from "node:fs";

const SPECIALS = 3; // <pad>, <bos>, <eos>
const BYTE_BASE = SPECIALS;
// Python's \s for str patterns (str.isspace), written out: JavaScript's \s differs at the edges.
const SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WORDS = new RegExp(`<\\|[a-z]+\\|>|</?[a-z_]+>|[A-Za-z]+|_|\\p{Nd}| ?[^${SPACE}A-Za-z_\\p{Nd}<]+|<|[${SPACE}]`, "gu");
const SPLITS: Record<string, RegExp> = {
  words: WORDS,
  "cased-words": WORDS,
  "snake-case-words": new RegExp(`<\\|[a-z]+\\|>|</?[a-z_]+>|[A-Za-z_]+|\\p{Nd}| ?[^${SPACE}A-Za-z_\\p{Nd}<]+|<|[${SPACE}]`, "gu"),
};
const ALNUM = /[\p{L}\p{N}]/u; // Python's str.isalnum for one character
const CAPITAL = "\u0000cap"; // the capital marker's piece (tokenizer.py's CAPITAL): no text splits into it
const CAPITALIZED = /^[A-Z][a-z]*$/;

export class TinyTokenizer {
  readonly padId = 0;
  readonly bosId = 1;
  readonly eosId = 2;
  private readonly index = new Map<string, number>();
  private readonly pattern: RegExp;
  private readonly capitalId: number | undefined;

  constructor(
    readonly pieces: string[],
    readonly split = "words",
  ) {
    const pattern = SPLITS[split];
    if (!pattern) throw new Error(`unknown tokenizer split "${split}"; known: ${Object.keys(SPLITS).join(", ")}`);
    this.pattern = pattern;
    pieces.forEach((p, i) => this.index.set(p, BYTE_BASE + 256 + i));
    this.capitalId = split === "cased-words" ? this.index.get(CAPITAL) : undefined;
  }

  /** tokenizer.json as the engine saves it ({pieces, split}; files without `split` are the older snake-case split). */
  static load(file: string): TinyTokenizer {
    const saved = JSON.parse(fs.readFileSync(file, "utf8")) as { pieces?: unknown; split?: unknown };
    if (!Array.isArray(saved.pieces) || !saved.pieces.every((p) => typeof p === "string")) throw new Error(`${file}: not a tiny tokenizer (no "pieces" list)`);
    return new TinyTokenizer(saved.pieces as string[], typeof saved.split === "string" ? saved.split : "snake-case-words");
  }

  get vocabSize(): number {
    return BYTE_BASE + 256 + this.pieces.length;
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    for (const [piece] of text.matchAll(this.pattern)) {
      const lower = this.capitalId !== undefined && CAPITALIZED.test(piece) ? this.index.get(piece.toLowerCase()) : undefined;
      if (lower !== undefined) {
        ids.push(this.capitalId!, lower);
        continue;
      }
      const token = this.index.get(piece);
      const chars = Array.from(piece);
      if (token !== undefined) ids.push(token);
      else if (chars.length > 1 && !ALNUM.test(chars[chars.length - 1]!)) for (const ch of chars) ids.push(...this.encode(ch));
      else for (const b of Buffer.from(piece, "utf8")) ids.push(BYTE_BASE + b);
    }
    return ids;
  }

  decode(ids: Iterable<number>): string {
    let out = "";
    let pending: number[] = [];
    let capital = false; // the marker capitalizes the first character of what comes next
    const emit = (text: string) => {
      if (capital && text) {
        const [first, ...rest] = Array.from(text);
        text = first!.toUpperCase() + rest.join("");
        capital = false;
      }
      out += text;
    };
    const flush = () => {
      if (pending.length) emit(Buffer.from(pending).toString("utf8"));
      pending = [];
    };
    for (const id of ids) {
      if (id >= BYTE_BASE && id < BYTE_BASE + 256) {
        pending.push(id - BYTE_BASE);
        continue;
      }
      flush();
      if (id === this.capitalId) capital = true;
      else if (id >= BYTE_BASE + 256) emit(this.pieces[id - BYTE_BASE - 256] ?? "");
      // special tokens decode to nothing
    }
    flush();
    return out;
  }
}
