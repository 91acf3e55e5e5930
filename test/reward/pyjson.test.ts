import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPyFloat, isPyFloatObject, parsePyJson, parsePyJsonFully, PyJsonError, pyCanonical, pyDumps, pyDumpsEqual, pyEquals, pyFloatRepr, pyHashKey, toPlain } from "../../reward/pyjson";
import { pyCount, pyRound2, pySplitWhitespace, pyStrip } from "../../reward/pytext";

describe("parsePyJson reads JSON as Python's json.loads", () => {
  it("keeps integral floats distinct from ints", () => {
    const v = parsePyJson('{"a": 40, "b": 40.0, "c": 1e2, "d": 2.5}') as Record<string, unknown>;
    assert.equal(v.a, 40);
    assert.ok(isPyFloatObject(v.b) && Number(v.b) === 40);
    assert.ok(isPyFloatObject(v.c) && Number(v.c) === 100);
    assert.equal(v.d, 2.5);
    assert.ok(isPyFloat(v.b) && isPyFloat(v.d) && !isPyFloat(v.a));
  });
  it("accepts NaN, Infinity and -Infinity like Python", () => {
    const v = parsePyJson("[NaN, Infinity, -Infinity]") as unknown[];
    assert.ok(Number.isNaN(Number(v[0])));
    assert.equal(Number(v[1]), Infinity);
    assert.equal(Number(v[2]), -Infinity);
  });
  it("keeps integers beyond 2^53 exact", () => {
    assert.equal(parsePyJson("12345678901234567890"), 12345678901234567890n);
    assert.equal(parsePyJson("123456789012345"), 123456789012345);
  });
  it("gives the same values on the fast path and the full reader", () => {
    // A number inside a string sends the text to the full reader; the value must not change.
    const fast = parsePyJson('{"k": [1, "x", true, null, {"y": "z"}]}');
    const full = parsePyJson('{"k": [1, "x", true, null, {"y": "z"}], "s": "3.5"}') as Record<string, unknown>;
    delete full.s;
    assert.deepEqual(full, fast);
  });
  it("reads escapes, surrogate pairs and a __proto__ key", () => {
    const v = parsePyJson('{"s": "a\\n\\u00e9\\ud83d\\ude00\\/", "__proto__": 1, "f": 1.5}') as Record<string, unknown>;
    assert.equal(v.s, "a\né😀/");
    assert.equal(Object.getOwnPropertyDescriptor(v, "__proto__")?.value, 1);
  });
  const errors: [string, string, number][] = [
    ["", "Expecting value", 0],
    ["[1, 2", "Expecting ',' delimiter", 5],
    ['{"a" 1}', "Expecting ':' delimiter", 5],
    ["{'a': 1}", "Expecting property name enclosed in double quotes", 1],
    ["[1] [2]", "Extra data", 4],
    ['"abc', "Unterminated string starting at", 0],
    ['"a\tb"', "Invalid control character at", 2],
    ["[1,]", "Expecting value", 3],
    ["01", "Extra data", 1],
  ];
  for (const [text, msg, pos] of errors) {
    it(`rejects ${JSON.stringify(text)} with Python's message and position`, () => {
      assert.throws(() => parsePyJson(text), (err: unknown) => err instanceof PyJsonError && err.msg === msg && err.pos === pos);
    });
  }
  it("reports line and column", () => {
    assert.throws(() => parsePyJson('[\n  {"a": 1},\n  {"b" 2}\n]'), (err: unknown) => err instanceof PyJsonError && err.lineno === 3 && err.colno === 8);
  });
});

describe("pyDumps writes what json.dumps writes", () => {
  it("uses Python's separators, repr of floats and ensure_ascii", () => {
    assert.equal(pyDumps(parsePyJson('{"b": 40.0, "a": [1, 2.5, "é", null, true]}'), true), '{"a": [1, 2.5, "\\u00e9", null, true], "b": 40.0}');
  });
  it("formats floats like repr()", () => {
    const cases: [number, string][] = [[1e16, "1e+16"], [1e15, "1000000000000000.0"], [0.0001, "0.0001"], [1e-5, "1e-05"], [1.5e-7, "1.5e-07"], [123.456, "123.456"], [-0, "-0.0"], [1e22, "1e+22"], [0.1 + 0.2, "0.30000000000000004"]];
    for (const [x, want] of cases) assert.equal(pyFloatRepr(x), want, String(x));
  });
  it("distinguishes 5, 5.0 and \"5\", as Tool-N1's comparison does", () => {
    const [a, b, c] = ["5", "5.0", '"5"'].map((t) => pyDumps(parsePyJson(t)));
    assert.equal(new Set([a, b, c]).size, 3);
  });
});

describe("exact comparison agrees with comparing json.dumps texts", () => {
  const texts = ["1", "1.0", "-0.0", "0.0", "0", "true", "1e2", "100", "100.0", '"1"', "null", "NaN", "[1, 2]", "[2, 1]", "[1.0, 2]", '{"a": 1, "b": [true]}', '{"b": [true], "a": 1}', '{"a": 1}', '{"a": 1.0, "b": [true]}', "12345678901234567890", "12345678901234567890.0", '{"a": {"b": null}}', '{"a": {"b": false}}'];
  const values = texts.map((t) => parsePyJson(t));
  it("pyDumpsEqual and pyCanonical decide equality exactly as pyDumps(…, sort_keys) does", () => {
    for (const a of values) {
      for (const b of values) {
        const want = pyDumps(a, true) === pyDumps(b, true);
        assert.equal(pyDumpsEqual(a, b), want, `${pyDumps(a)} vs ${pyDumps(b)}`);
        assert.equal(pyCanonical(a) === pyCanonical(b), want, `${pyDumps(a)} vs ${pyDumps(b)}`);
      }
    }
  });
});

describe("pyEquals is Python's ==", () => {
  it("treats 1, 1.0 and True as equal and ignores key order", () => {
    assert.ok(pyEquals(parsePyJson('{"a": 1, "b": [1.0, true]}'), parsePyJson('{"b": [1, 1], "a": 1.0}')));
  });
  it("keeps strings, lists and dicts apart", () => {
    assert.ok(!pyEquals("1", 1));
    assert.ok(!pyEquals([1], { 0: 1 }));
    assert.ok(!pyEquals(parsePyJson("NaN"), parsePyJson("NaN")));
    assert.ok(!pyEquals({ a: 1 }, { a: 1, b: 2 }));
  });
  it("hashes like Python and refuses unhashable values", () => {
    assert.equal(pyHashKey(true), pyHashKey(1));
    assert.equal(pyHashKey(parsePyJson("1.0")), pyHashKey(1));
    assert.notEqual(pyHashKey("1"), pyHashKey(1));
    assert.throws(() => pyHashKey([1]), TypeError);
  });
  it("converts to plain JavaScript values", () => {
    assert.deepEqual(toPlain(parsePyJson('{"a": 40.0, "b": [1e0]}')), { a: 40, b: [1] });
  });
});

describe("Python string helpers", () => {
  it("strip and split on Python's whitespace", () => {
    assert.equal(pyStrip("\u00a0\x1c x \u2003"), "x");
    assert.equal(pyStrip("\ufeffx"), "\ufeffx"); // Python does not strip a BOM
    assert.deepEqual(pySplitWhitespace("  a\u3000b\n\tc "), ["a", "b", "c"]);
    assert.deepEqual(pySplitWhitespace("   "), []);
  });
  it("counts non-overlapping occurrences", () => {
    assert.equal(pyCount("aaaa", "aa"), 2);
    assert.equal(pyCount("<a><a>", "<a>"), 2);
  });
  it("rounds to two places with ties to even on exact binary values", () => {
    assert.equal(pyRound2(0.125), 0.12);
    assert.equal(pyRound2(0.375), 0.38);
    assert.equal(pyRound2(2.675), 2.67); // 2.675 is below the tie in binary
    assert.equal(pyRound2(64 / 512), 0.12);
    assert.equal(pyRound2(-0.125), -0.12);
    assert.equal(pyRound2(0.126), 0.13);
  });
});

describe("the fast path and the full reader agree", () => {
  // Each text is read by parsePyJson (JSON.parse, with sentinels for ambiguous numbers) and by the full reader alone.
  const texts = [
    '{"step": 3, "progress": 0.5, "samples": [{"gt": [{"a": 40.0, "b": 1e2, "c": 2.5, "d": -0.0, "e": 12345678901234567890}]}]}',
    '[NaN, Infinity, -Infinity, 1e400, -1e400, 0.0, 1.0e-2, 10E-1]',
    '{"s": "\\u0001rs-num:40.0", "n": 40.0}',
    '{"s": "looks like 40.0 and NaN", "t": "\\"quoted\\" 1.0"}',
    "[1, 2, -3, 123456789012345, 1234567890123456, -9007199254740993]",
  ];
  for (const text of texts) {
    it(text.slice(0, 60), () => {
      const fast = parsePyJson(text);
      const full = parsePyJsonFully(text);
      assert.equal(pyDumps(fast, true), pyDumps(full, true));
      assert.deepEqual(fast, full);
    });
  }
  it("keeps a string that looks like a sentinel a string", () => {
    const v = parsePyJson('{"s": "\\u0001rs-num:40.0", "n": 40.0}') as Record<string, unknown>;
    assert.equal(v.s, "\u0001rs-num:40.0");
    assert.ok(isPyFloatObject(v.n));
  });
  it("reads integral floats, NaN and big integers in a large line exactly", () => {
    const v = parsePyJson('{"progress": 0.0, "x": [40.0, 40, 2.5, NaN, 99999999999999999999]}') as { progress: unknown; x: unknown[] };
    assert.ok(isPyFloatObject(v.progress));
    assert.deepEqual(v.x.map((x) => pyDumps(x as never)), ["40.0", "40", "2.5", "NaN", "99999999999999999999"]);
  });
});
