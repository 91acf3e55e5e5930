// The samples of a GRPO group share one ground truth: each preset reads it once, not once per sample.

const MAX_TEXTS = 4096;

/** Wraps a ground-truth reader with a cache keyed by the ground truth's text, or by its object. */
export function memoByGroundTruth<T>(read: (groundTruth: unknown) => T): (groundTruth: unknown) => T {
  const byText = new Map<string, T>();
  const byObject = new WeakMap<object, T>();
  return (groundTruth) => {
    if (typeof groundTruth === "string") {
      const hit = byText.get(groundTruth);
      if (hit !== undefined) return hit;
      const value = read(groundTruth);
      if (byText.size >= MAX_TEXTS) byText.clear();
      byText.set(groundTruth, value);
      return value;
    }
    if (groundTruth !== null && typeof groundTruth === "object") {
      const hit = byObject.get(groundTruth);
      if (hit !== undefined) return hit;
      const value = read(groundTruth);
      byObject.set(groundTruth, value);
      return value;
    }
    return read(groundTruth);
  };
}
