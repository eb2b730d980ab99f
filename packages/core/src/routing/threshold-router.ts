import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { RouterV1, RouteTarget, TargetState } from '../spec/router/v1/router-v1.js';
import { complexityScorer } from './complexity-scorer.js';
import { orderTargetsByHealth, type TargetHealthOptions, toTargets } from './route-health.js';

/** Rates how much a request needs the strong model; higher means stronger. */
export type RequestScorer = (request: ChatRequest) => number | Promise<number>;

/** Options of {@link thresholdRouter}. */
export interface ThresholdRouterOptions extends TargetHealthOptions {
  /** The capable, expensive model. @example 'openai/gpt-4o' */
  strong: string | RouteTarget;
  /** The cheap, fast model. @example 'lab/qwen3-4b' */
  weak: string | RouteTarget;
  /**
   * Scores each request. RouteLLM's scorers predict the probability that the strong model's answer
   * is preferred; any monotone score works once the threshold is calibrated for it.
   * @default complexityScorer (a length/keyword heuristic, a placeholder for a learned scorer)
   */
  scorer?: RequestScorer;
  /**
   * Requests scoring at or above it go to the strong model first. Get it from `calibrateThreshold`
   * over sample prompts for a wanted share of strong calls.
   * @default 0.5
   */
  threshold?: number;
}

/**
 * Strong/weak routing in the manner of RouteLLM: a scorer rates the request, and a score at or above
 * the threshold routes it to the strong model, else the weak one. The other model follows as the
 * fallback. A NaN score routes weak. Health-aware: an unhealthy preferred model leaves the other one.
 *
 * @example
 * thresholdRouter({ strong: 'openai/gpt-4o', weak: 'lab/qwen3-4b', threshold: calibrateThreshold(scores, 0.25) })
 */
export function thresholdRouter(options: ThresholdRouterOptions): RouterV1 {
  const [strong, weak] = toTargets([options.strong, options.weak]) as [RouteTarget, RouteTarget];
  const strongFirst = [strong, weak];
  const weakFirst = [weak, strong];
  const scorer = options.scorer ?? complexityScorer;
  const threshold = options.threshold ?? 0.5;
  const order = (score: number, candidates: readonly TargetState[]) =>
    orderTargetsByHealth(score >= threshold ? strongFirst : weakFirst, candidates, options);
  return {
    specificationVersion: 'v1',
    name: 'threshold',
    doRoute(context) {
      const score = scorer(context.request);
      // A synchronous scorer keeps the decision synchronous (no promise per request).
      if (typeof score === 'number') return order(score, context.candidates);
      return score.then((value) => order(value, context.candidates));
    },
  };
}
