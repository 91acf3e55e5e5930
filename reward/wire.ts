// Writing JSON lines. Values read with the Python-compatible reader may hold bigints, which
// JSON.stringify refuses; they are written as numbers.

export function stringifyLine(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
  }
}
