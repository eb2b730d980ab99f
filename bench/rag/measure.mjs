/** Timing and exact-search helpers for the RAG bench. */

export function percentile(values, fraction) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

export const median = (values) => percentile(values, 0.5);

export const round = (value, digits = 3) => Number(value.toFixed(digits));

/** Runs `work` and returns its result with the elapsed milliseconds. */
export async function timed(work) {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

/** Unit-length copies of vectors in one Float32Array, for exact search. */
export function normalizedMatrix(vectors, dimensions) {
  const matrix = new Float32Array(vectors.length * dimensions);
  vectors.forEach((vector, row) => {
    const norm = Math.hypot(...vector) || 1;
    for (let column = 0; column < dimensions; column++)
      matrix[row * dimensions + column] = vector[column] / norm;
  });
  return matrix;
}

/** The k rows with the highest cosine similarity to the query (exact, brute force), and their scores. */
export function exactTopK(matrix, dimensions, query, k) {
  const norm = Math.hypot(...query) || 1;
  const unit = Float32Array.from(query, (value) => value / norm);
  const rows = matrix.length / dimensions;
  const bestRows = [];
  const bestScores = [];
  for (let row = 0; row < rows; row++) {
    let dot = 0;
    const offset = row * dimensions;
    for (let column = 0; column < dimensions; column++) dot += matrix[offset + column] * unit[column];
    if (bestRows.length < k || dot > bestScores[bestScores.length - 1]) {
      let at = bestScores.length;
      while (at > 0 && bestScores[at - 1] < dot) at--;
      bestRows.splice(at, 0, row);
      bestScores.splice(at, 0, dot);
      if (bestRows.length > k) {
        bestRows.pop();
        bestScores.pop();
      }
    }
  }
  return { rows: bestRows, scores: bestScores };
}

/**
 * Mean fraction of the exact top-k found by an approximate top-k. `strict` counts exact ids only;
 * `withTies` also counts a hit whose true score equals the k-th exact score (identical vectors, e.g.
 * repeated sentences, make the exact top-k one arbitrary pick among equals).
 */
export function recallAgainst(approximate, exact, epsilon = 1e-5) {
  let strict = 0;
  let withTies = 0;
  approximate.forEach((hits, index) => {
    const truth = new Set(exact[index].ids);
    const kth = exact[index].scores[exact[index].scores.length - 1];
    strict += hits.filter((hit) => truth.has(hit.id)).length / truth.size;
    withTies +=
      Math.min(truth.size, hits.filter((hit) => truth.has(hit.id) || hit.score >= kth - epsilon).length) /
      truth.size;
  });
  return { strict: strict / approximate.length, withTies: withTies / approximate.length };
}
