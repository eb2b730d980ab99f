import type { ScoredId } from '../lexical/bm25-options.js';

/** Maximal marginal relevance: trade relevance for variety among the results. */
export interface MmrOptions {
  /**
   * 1 ranks by relevance only, 0 by difference from what was already picked only.
   * @default 0.5
   */
  lambda?: number;
  /** Candidates ranked first, from which the `k` results are picked. @default max(4 × k, 20) */
  candidates?: number;
}

/** How alike two chunks are, from 0 to 1 (vectors' cosine, else word overlap). */
export type ChunkSimilarity = (left: string, right: string) => number;

/** Cosine of two vectors. */
export function cosine(left: readonly number[], right: readonly number[]): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let index = 0; index < left.length; index++) {
    dot += left[index]! * right[index]!;
    leftNorm += left[index]! * left[index]!;
    rightNorm += right[index]! * right[index]!;
  }
  return leftNorm === 0 || rightNorm === 0 ? 0 : dot / Math.sqrt(leftNorm * rightNorm);
}

/** Jaccard overlap of the lower-cased words of two texts, for chunks without vectors. */
export function wordOverlap(left: string, right: string): number {
  const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
  const a = words(left);
  const b = words(right);
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const word of a) if (b.has(word)) shared++;
  return shared / (a.size + b.size - shared);
}

/**
 * Picks `k` of the ranked candidates greedily: each time the one with the best
 * `lambda × relevance − (1 − lambda) × (highest similarity to one already picked)`, relevance being
 * the candidate's score divided by the best candidate's. The picks keep their own scores, in the order picked.
 */
export function maximalMarginalRelevance(
  ranked: readonly ScoredId[],
  k: number,
  similarity: ChunkSimilarity,
  lambda = 0.5,
): ScoredId[] {
  if (ranked.length <= 1 || lambda >= 1) return ranked.slice(0, k);
  // Relative to the best score: BM25, cosine and rank-fusion scores differ in range, and scaling to
  // the best keeps a weaker but different chunk above zero (min-max scaling would zero the last one).
  const best = Math.max(...ranked.map((item) => item.score));
  const relevance = ranked.map((item) => (best > 0 ? item.score / best : 1));
  const picked: number[] = [];
  // Highest similarity of each candidate to the picks so far, updated as picks are made.
  const closest = new Array<number>(ranked.length).fill(0);
  const left = new Set(ranked.keys());
  while (picked.length < k && left.size > 0) {
    let best = -1;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (const index of left) {
      const value = lambda * relevance[index]! - (1 - lambda) * closest[index]!;
      if (value > bestValue) {
        bestValue = value;
        best = index;
      }
    }
    picked.push(best);
    left.delete(best);
    for (const index of left) {
      closest[index] = Math.max(closest[index]!, similarity(ranked[index]!.id, ranked[best]!.id));
    }
  }
  return picked.map((index) => ranked[index]!);
}
