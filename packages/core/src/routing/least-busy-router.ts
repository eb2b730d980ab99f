import type { RouterV1, TargetState } from '../spec/router/v1/router-v1.js';
import { CandidateRanking } from './candidate-ranking.js';

/** How busy a candidate is: calls running here, waiting here, and waiting upstream. */
export function busyScore(state: TargetState): number {
  return state.inFlight + state.queued + state.upstreamQueueDepth;
}

/**
 * Orders candidates from least to most busy: `inFlight + queued + upstreamQueueDepth` (the last
 * from mlx-openai-server's `/v1/queue/stats`). Ties keep candidate order. Health-aware.
 *
 * @example leastBusyRouter()
 */
export function leastBusyRouter(): RouterV1 {
  const ranking = new CandidateRanking();
  return {
    specificationVersion: 'v1',
    name: 'least-busy',
    doRoute: (context) => ranking.rank(context.candidates, busyScore),
  };
}
