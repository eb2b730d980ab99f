/** One ranked list entry: an id and the score its ranker gave it (only the rank is used). */
export interface RankedItem {
  id: string;
  score: number;
}

/** Options of {@link reciprocalRankFusion}. */
export interface ReciprocalRankFusionOptions {
  /** Smoothing constant of `1 / (k + rank)`; larger flattens the head of each list. @default 60 */
  k?: number;
  /** Weight of each list, by position; missing weights are 1, a weight of 0 ignores the list. @example [1, 0.5] */
  weights?: readonly number[];
}

/**
 * Reciprocal rank fusion (Cormack et al., 2009): each id scores `Σ weight_i / (k + rank_i)` over the
 * lists it appears in (rank from 1 among the list's distinct ids; a repeated id counts once, at its
 * best rank). Lists are best first; the result is best first, ties broken by first appearance. Fuses
 * retrieval lists (BM25 + vectors) as well as rankings of candidates.
 *
 * @example reciprocalRankFusion([bm25Hits, vectorHits], { k: 60, weights: [1, 1] })
 */
export function reciprocalRankFusion(
  lists: readonly (readonly RankedItem[])[],
  options: ReciprocalRankFusionOptions = {},
): RankedItem[] {
  const k = options.k ?? 60;
  if (!(k >= 0)) throw new RangeError('reciprocalRankFusion: k must be a non-negative number');
  const fused = new Map<string, number>();
  for (const [listIndex, list] of lists.entries()) {
    const weight = options.weights?.[listIndex] ?? 1;
    if (weight === 0) continue;
    const seen = new Set<string>();
    for (const item of list) {
      if (seen.has(item.id)) continue;
      seen.add(item.id);
      // Ranks count distinct ids, so a repeated id does not push the ones after it down.
      fused.set(item.id, (fused.get(item.id) ?? 0) + weight / (k + seen.size));
    }
  }
  // Array sort is stable: equal scores keep first-appearance order (the map's insertion order).
  return [...fused].map(([id, score]) => ({ id, score })).sort((left, right) => right.score - left.score);
}
