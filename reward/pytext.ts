// Python's string operations where they differ from JavaScript's, as the papers' rewards use them.

// str.strip() / str.split() whitespace: JavaScript's \s lacks \x1c-\x1f and \x85 and adds \ufeff.
const PY_WS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
const PY_WS_SET = new Set(Array.from(PY_WS, (c) => c.charCodeAt(0)));
const PY_WS_RUN = new RegExp(`[${PY_WS}]+`, "u");

export function isPyWhitespace(code: number): boolean {
  return code === 32 || (code <= 0x3000 && PY_WS_SET.has(code));
}

/** str.strip() with no argument. */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isPyWhitespace(s.charCodeAt(start))) start++;
  while (end > start && isPyWhitespace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** str.split() with no argument: runs of whitespace separate, no empty items. */
export function pySplitWhitespace(s: string): string[] {
  const stripped = pyStrip(s);
  return stripped === "" ? [] : stripped.split(PY_WS_RUN);
}

/** str.count(sub) for a non-empty sub: non-overlapping occurrences. */
export function pyCount(s: string, sub: string): number {
  let n = 0;
  for (let i = s.indexOf(sub); i !== -1; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

/**
 * round(x, 2) as Python does it: correctly rounded from the exact binary value, ties to even.
 * toFixed also rounds the exact value but breaks ties upward; an exact tie at two decimals is a
 * multiple of 1/8 that is not a multiple of 1/4 (x = m/8, m odd), so those are settled here.
 */
export function pyRound2(x: number): number {
  if (!Number.isFinite(x)) return x;
  const eighths = x * 8;
  if (Number.isInteger(eighths) && eighths % 2 !== 0 && Math.abs(x) < 2 ** 40) {
    const hundredthsFloor = Math.floor(x * 100); // exact: x*100 = 12.5 * m
    const even = hundredthsFloor % 2 === 0 ? hundredthsFloor : hundredthsFloor + 1;
    return even / 100;
  }
  return Number(x.toFixed(2));
}

/** Python's `str.split(sep)` then index: `s.split(sep)[i]`, raising IndexError as Python would. */
export function pySplitAt(s: string, sep: string, index: number): string {
  const parts = s.split(sep);
  const i = index < 0 ? parts.length + index : index;
  const part = parts[i];
  if (part === undefined) throw new RangeError("list index out of range");
  return part;
}
