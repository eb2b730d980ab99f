/** Order statistics of latency samples. */

/** The q-quantile (0..1) by nearest rank: the smallest sample with at least q of them at or below it. */
export function quantile(samples, q) {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

export function median(samples) {
  return quantile(samples, 0.5);
}

/** Rounds to `digits` decimals. */
export function round(value, digits = 2) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** A uniform [0, 1) number from integers, the same for the same inputs (splitmix32 of their mix). */
export function hashUniform(...parts) {
  let x = 0x9e3779b9;
  for (const part of parts) x = Math.imul(x ^ (part >>> 0), 0x85ebca6b) ^ (x >>> 13);
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  x ^= x >>> 15;
  return (x >>> 0) / 4294967296;
}
