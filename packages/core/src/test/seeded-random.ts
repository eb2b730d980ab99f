/**
 * A deterministic generator of numbers in [0, 1) (mulberry32): the same seed gives the same
 * sequence, so a test that draws random input can be replayed from its seed.
 *
 * @example
 * const next = seededRandom(42);
 * const cut = Math.floor(next() * text.length);
 */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}
