import type { RouterV1, TargetState } from '../spec/router/v1/router-v1.js';
import { CandidateRanking } from './candidate-ranking.js';

/** Options of {@link latencyRouter}. */
export interface LatencyRouterOptions {
  /**
   * Which moving average to rank by: time to first token (streams feel fast) or total time. A
   * target timed only by non-streamed calls has no first-token time: its total time stands in (a
   * non-streamed answer's first token reaches the client at its end).
   * @default 'firstToken'
   */
  metric?: 'firstToken' | 'total';
  /**
   * Where candidates without a measurement go. `'first'` explores them (least busy first) so they
   * get measured; with `'last'` a new target only ever serves as a fallback and may never be timed.
   * @default 'first'
   */
  unknown?: 'first' | 'last';
  /**
   * Every this many decisions, one slower target (each in turn) goes first, so its average is
   * measured again: a target that was slow once would otherwise never be tried again, however fast
   * it became. 0 turns exploration off.
   * @default 20
   */
  exploreEvery?: number;
}

/**
 * Orders candidates by their latency EWMA (from `TargetState.latency`, filled by the call path's
 * `LatencyTracker` from streamed and non-streamed calls), fastest first. Unmeasured candidates are
 * explored first by default, and every `exploreEvery` decisions a slower one is re-measured.
 * Health-aware.
 *
 * @example latencyRouter({ metric: 'total' })
 */
export function latencyRouter(options: LatencyRouterOptions = {}): RouterV1 {
  const ranking = new CandidateRanking();
  const total = options.metric === 'total';
  const exploreFirst = options.unknown !== 'last';
  const exploreEvery = options.exploreEvery ?? 20;
  let decisions = 0;
  let explored = 0;
  const score = (state: TargetState): number => {
    const latency = total ? state.latency.totalMs : (state.latency.firstTokenMs ?? state.latency.totalMs);
    if (latency !== undefined) return latency;
    // Below every latency (all ≥ 0); among unmeasured ones, the least busy first, so a burst
    // of requests spreads over them instead of piling on one before its first measurement.
    return exploreFirst ? -1 / (1 + state.inFlight + state.queued) : Number.POSITIVE_INFINITY;
  };
  return {
    specificationVersion: 'v1',
    name: 'latency',
    doRoute: (context) => {
      const ranked = ranking.rank(context.candidates, score);
      decisions++;
      if (exploreEvery > 0 && ranked.length > 1 && decisions % exploreEvery === 0) {
        // The slower ones take turns, so each is re-measured every (candidates - 1) explorations.
        const index = 1 + (explored++ % (ranked.length - 1));
        const [target] = ranked.splice(index, 1);
        ranked.unshift(target!);
      }
      return ranked;
    },
  };
}
