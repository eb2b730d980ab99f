/**
 * The threshold that sends `strongShare` of the sample prompts to the strong model, given their
 * scores (routing rule: `score >= threshold` → strong). In the manner of RouteLLM's calibration: score
 * a representative sample of your traffic, then pick the quantile.
 *
 * With distinct scores the share is met exactly (rounded to whole prompts): the threshold falls
 * midway between the last strong and the first weak score. When equal scores straddle the boundary,
 * the tie goes wholly to one side, whichever lands closer to the target (on a draw, the weak side:
 * fewer strong calls). A share of 0 gives `Infinity` (nothing is strong).
 *
 * @param scores scores of sample prompts (NaN ignored)
 * @param strongShare the wanted fraction of strong-model calls, in [0, 1]
 * @example thresholdRouter({ strong, weak, scorer, threshold: calibrateThreshold(sampleScores, 0.2) })
 */
export function calibrateThreshold(scores: readonly number[], strongShare: number): number {
  if (!(strongShare >= 0 && strongShare <= 1)) {
    throw new RangeError('calibrateThreshold: strongShare must be in [0, 1]');
  }
  const sorted = scores.filter((score) => !Number.isNaN(score)).sort((left, right) => right - left);
  if (sorted.length === 0) throw new RangeError('calibrateThreshold: no scores to calibrate from');
  const wanted = Math.round(strongShare * sorted.length);
  if (wanted === 0) return Number.POSITIVE_INFINITY;
  if (wanted === sorted.length) return sorted[sorted.length - 1]!;
  const lastStrong = sorted[wanted - 1]!;
  const firstWeak = sorted[wanted]!;
  if (lastStrong > firstWeak) return midpoint(lastStrong, firstWeak);
  // A tie across the boundary: all of it goes strong (threshold = the tied score) or weak.
  let tieStart = wanted - 1;
  while (tieStart > 0 && sorted[tieStart - 1] === lastStrong) tieStart--;
  let tieEnd = wanted;
  while (tieEnd < sorted.length && sorted[tieEnd] === lastStrong) tieEnd++;
  if (tieEnd - wanted < wanted - tieStart) return lastStrong;
  return tieStart === 0 ? Number.POSITIVE_INFINITY : midpoint(sorted[tieStart - 1]!, lastStrong);
}

function midpoint(high: number, low: number): number {
  if (high === Number.POSITIVE_INFINITY) return Number.MAX_VALUE;
  if (low === Number.NEGATIVE_INFINITY) return -Number.MAX_VALUE;
  const middle = low + (high - low) / 2;
  // Adjacent floats have no middle: then only the high one stays strong.
  return middle > low ? middle : high;
}
