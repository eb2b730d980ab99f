import type { RouterV1, TargetState } from '../spec/router/v1/router-v1.js';
import { CandidateRanking } from './candidate-ranking.js';

/** Options of {@link latencyRouter}. */
export interface LatencyRouterOptions {
  /**
   * Which moving average to rank by: time to first token (streams feel fast) or total time.
   * @default 'firstToken'
   */
  metric?: 'firstToken' | 'total';
  /**
   * Where candidates without a measurement go. `'first'` explores them (least busy first) so they
   * get measured; with `'last'` a new target only ever serves as a fallback and may never be timed.
   * @default 'first'
   */
  unknown?: 'first' | 'last';
}

/**
 * Orders candidates by their latency EWMA (from `TargetState.latency`, filled by the call path's
 * `LatencyTracker`), fastest first. Unmeasured candidates are explored first by default.
 * Health-aware.
 *
 * @example latencyRouter({ metric: 'total' })
 */
export function latencyRouter(options: LatencyRouterOptions = {}): RouterV1 {
  const ranking = new CandidateRanking();
  const total = options.metric === 'total';
  const exploreFirst = options.unknown !== 'last';
  const score = (state: TargetState): number => {
    const latency = total ? state.latency.totalMs : state.latency.firstTokenMs;
    if (latency !== undefined) return latency;
    // Below every latency (all ≥ 0); among unmeasured ones, the least busy first, so a burst
    // of requests spreads over them instead of piling on one before its first measurement.
    return exploreFirst ? -1 / (1 + state.inFlight + state.queued) : Number.POSITIVE_INFINITY;
  };
  return {
    specificationVersion: 'v1',
    name: 'latency',
    doRoute: (context) => ranking.rank(context.candidates, score),
  };
}
