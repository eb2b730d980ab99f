import type { RouterV1, TargetState } from '../spec/router/v1/router-v1.js';
import { CandidateRanking } from './candidate-ranking.js';

/** Options of {@link weightedRandomRouter}. */
export interface WeightedRandomRouterOptions {
  /**
   * Relative weight per registered model id. A weight of 0 (or less) leaves the model out.
   * @example { 'lab/qwen3-4b': 3, 'lab/llama-3.2-3b': 1 }
   */
  weights?: Readonly<Record<string, number>>;
  /**
   * Weight of a candidate missing from `weights`.
   * @default 1
   */
  defaultWeight?: number;
  /**
   * Uniform random numbers in [0, 1); inject a seeded one for reproducible tests.
   * @default Math.random
   */
  random?: () => number;
}

/**
 * Orders candidates at random, each position drawn in proportion to the weights (weighted sampling
 * without replacement, Efraimidis–Spirakis: key = -ln(u) / weight, smallest first). The first target
 * is thus chosen with probability weight / total; the rest remain as fallbacks. Health-aware.
 *
 * @example weightedRandomRouter({ weights: { 'lab/a': 3, 'lab/b': 1 } })
 */
export function weightedRandomRouter(options: WeightedRandomRouterOptions = {}): RouterV1 {
  const ranking = new CandidateRanking();
  const weights = new Map(Object.entries(options.weights ?? {}));
  const defaultWeight = options.defaultWeight ?? 1;
  const random = options.random ?? Math.random;
  const score = (state: TargetState): number => {
    const weight = weights.get(state.model) ?? defaultWeight;
    if (!(weight > 0)) return Number.NaN;
    // 1 - u lies in (0, 1], so the logarithm is finite.
    return -Math.log(1 - random()) / weight;
  };
  return {
    specificationVersion: 'v1',
    name: 'weighted-random',
    doRoute: (context) => ranking.rank(context.candidates, score),
  };
}
