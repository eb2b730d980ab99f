/**
 * Fusion strategies (`FusionStrategyV1`): single, fallback, race, vote, best-of-n, mixture-of-agents,
 * and reciprocal rank fusion for ranked lists.
 * @module
 */
export { type BestOfNOptions, bestOfNStrategy } from './best-of-n-strategy.js';
export { type BuiltinStrategies, builtinStrategies } from './builtin-strategies.js';
export { hasContent, resultChunks, resultText } from './chat-chunks.js';
export { isBudgetError } from './collect-samples.js';
export { CONTINUE_INSTRUCTION } from './continuation.js';
export { type FallbackOptions, fallbackStrategy } from './fallback-strategy.js';
export { DEFAULT_JUDGE_CRITERIA } from './judge-prompt.js';
export { type MixtureOfAgentsOptions, mixtureOfAgentsStrategy } from './mixture-of-agents-strategy.js';
export { AGGREGATE_AND_SYNTHESIZE_PROMPT } from './moa-prompt.js';
export { type Judgement, parseJudgement } from './parse-judgement.js';
export { type RaceOptions, type RaceStrategyOptions, raceStrategy } from './race-strategy.js';
export {
  type RankedItem,
  type ReciprocalRankFusionOptions,
  reciprocalRankFusion,
} from './reciprocal-rank-fusion.js';
export { singleStrategy } from './single-strategy.js';
export type { PhaseTimeOptions } from './strategy-options.js';
export { sumUsage } from './sum-usage.js';
export { normalizeAnswer } from './tally-votes.js';
export { type VoteOptions, voteStrategy } from './vote-strategy.js';
