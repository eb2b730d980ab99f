import type { RouterV1, TargetState } from '../spec/router/v1/router-v1.js';
import { CandidateRanking } from './candidate-ranking.js';
import { estimatePromptTokens } from './estimate-tokens.js';

/** Options of {@link costRouter}. */
export interface CostRouterOptions {
  /**
   * Completion tokens to price when the request sets no `max_tokens`.
   * @default 256
   */
  defaultCompletionTokens?: number;
  /**
   * How to price a model without `info.pricing`: `'last'` ranks it after every priced one (a router
   * that minimises cost does not gamble on an unknown price); `'free'` prices it at 0 (local models).
   * @default 'last'
   */
  unknownPricing?: 'last' | 'free';
}

/**
 * Orders candidates by the estimated price of the request, cheapest first: prompt tokens (characters
 * / 4) × `pricing.input` + `max_tokens` × `pricing.output`, per million tokens. Ties keep candidate
 * order. Health-aware.
 *
 * @example costRouter({ unknownPricing: 'free' })
 */
export function costRouter(options: CostRouterOptions = {}): RouterV1 {
  const ranking = new CandidateRanking();
  const defaultCompletionTokens = options.defaultCompletionTokens ?? 256;
  const unknownCost = options.unknownPricing === 'free' ? 0 : Number.POSITIVE_INFINITY;
  let promptTokens = 0;
  let completionTokens = 0;
  const score = (state: TargetState): number => {
    const pricing = state.info.pricing;
    if (!pricing) return unknownCost;
    return (promptTokens * pricing.input + completionTokens * pricing.output) / 1_000_000;
  };
  return {
    specificationVersion: 'v1',
    name: 'cost',
    doRoute(context) {
      promptTokens = estimatePromptTokens(context.request);
      completionTokens = context.request.max_tokens ?? defaultCompletionTokens;
      return ranking.rank(context.candidates, score);
    },
  };
}
