/**
 * Routers (`RouterV1`) and what they rank by. Every router is health-aware: it skips candidates that
 * are unhealthy or whose circuit is open, and puts half-open ones (waiting for their probe) first.
 * @module
 */
export { calibrateThreshold } from './calibrate-threshold.js';
export { CandidateRanking, type CandidateScore } from './candidate-ranking.js';
export { type CapabilityRouterOptions, capabilityRouter } from './capability-router.js';
export { complexityScorer } from './complexity-scorer.js';
export { type CostRouterOptions, costRouter } from './cost-router.js';
export { estimatePromptTokens, hasImageParts, lastUserText } from './estimate-tokens.js';
export { type ExplicitRouterOptions, explicitRouter } from './explicit-router.js';
export { type LatencyRouterOptions, latencyRouter } from './latency-router.js';
export { type LatencySample, LatencyTracker, type LatencyTrackerOptions } from './latency-tracker.js';
export { busyScore, leastBusyRouter } from './least-busy-router.js';
export { isRoutable, orderTargetsByHealth, type TargetHealthOptions } from './route-health.js';
export {
  type EmbedTexts,
  type SemanticRoute,
  type SemanticRouterOptions,
  semanticRouter,
} from './semantic-router.js';
export { type RequestScorer, type ThresholdRouterOptions, thresholdRouter } from './threshold-router.js';
export { type WeightedRandomRouterOptions, weightedRandomRouter } from './weighted-random-router.js';
