/**
 * Deterministic embedders for the bench (no model is needed): hashed bag-of-words feature vectors
 * for SciFact, and seeded Gaussian vectors for the random-vector runs. Plus a sentence splitter.
 */

function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Feature hashing: each analysed term adds ±(1 + ln tf) at a hashed coordinate (sign from another
 * hash bit), then the vector is scaled to unit length. Similar texts get similar vectors.
 */
export function hashedVectors(analyze, dimensions = 384) {
  return (text) => {
    const vector = new Array(dimensions).fill(0);
    const counts = new Map();
    for (const term of analyze(text)) counts.set(term, (counts.get(term) ?? 0) + 1);
    for (const [term, count] of counts) {
      const hash = fnv1a(term);
      vector[hash % dimensions] += (hash & 0x80000000 ? -1 : 1) * (1 + Math.log(count));
    }
    if (counts.size === 0) vector[0] = 1;
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
  };
}

/** A seeded Gaussian vector per text (Box-Muller over mulberry32): the same text, the same vector. */
export function randomVectors(dimensions = 384) {
  return (text) => {
    let state = fnv1a(text);
    const next = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const vector = new Array(dimensions);
    for (let index = 0; index < dimensions; index += 2) {
      const radius = Math.sqrt(-2 * Math.log(next() || 1e-12));
      const angle = 2 * Math.PI * next();
      vector[index] = radius * Math.cos(angle);
      if (index + 1 < dimensions) vector[index + 1] = radius * Math.sin(angle);
    }
    return vector;
  };
}

/** A TextSplitter that cuts at sentence ends (and line breaks), keeping exact spans. */
export const sentenceSplitter = {
  split(text) {
    const chunks = [];
    const boundary = /[.!?](?=\s+[A-Z0-9([])|\n/g;
    let start = 0;
    const push = (end) => {
      const raw = text.slice(start, end);
      const from = start + (raw.length - raw.trimStart().length);
      const to = start + raw.trimEnd().length;
      if (to > from) chunks.push({ text: text.slice(from, to), start: from, end: to });
    };
    for (let match = boundary.exec(text); match; match = boundary.exec(text)) {
      push(match.index + 1);
      start = match.index + 1;
    }
    push(text.length);
    return chunks;
  },
};
