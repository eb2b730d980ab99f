import type { FusionStrategyV1 } from '../spec/strategy/v1/fusion-strategy-v1.js';
import { bestOfNStrategy } from './best-of-n-strategy.js';
import { fallbackStrategy } from './fallback-strategy.js';
import { mixtureOfAgentsStrategy } from './mixture-of-agents-strategy.js';
import { raceStrategy } from './race-strategy.js';
import { singleStrategy } from './single-strategy.js';
import { voteStrategy } from './vote-strategy.js';

/** The built-in strategies by name. */
export interface BuiltinStrategies {
  single: FusionStrategyV1;
  fallback: ReturnType<typeof fallbackStrategy>;
  race: ReturnType<typeof raceStrategy>;
  vote: ReturnType<typeof voteStrategy>;
  'best-of-n': ReturnType<typeof bestOfNStrategy>;
  'mixture-of-agents': ReturnType<typeof mixtureOfAgentsStrategy>;
}

/**
 * Fresh instances of every built-in strategy, keyed by name, with default options (pipelines pass
 * theirs per request through `context.options`). Register each once: `race` keeps its latency
 * windows in the instance.
 *
 * @example for (const strategy of Object.values(builtinStrategies())) api.registerStrategy(strategy);
 */
export function builtinStrategies(): BuiltinStrategies {
  return {
    single: singleStrategy(),
    fallback: fallbackStrategy(),
    race: raceStrategy(),
    vote: voteStrategy(),
    'best-of-n': bestOfNStrategy(),
    'mixture-of-agents': mixtureOfAgentsStrategy(),
  };
}
