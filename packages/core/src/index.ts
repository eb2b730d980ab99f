/**
 * `@fusionkit/core`: the Fusion Orchestrator's spec interfaces, the orchestrator, its registry and
 * queue, and the OpenAI-compatible HTTP handler. Runs wherever `Request` and `Response` exist.
 *
 * @example
 * import { createFusion } from '@fusionkit/core';
 * const fusion = createFusion({ providers: [myProvider] });
 * const answer = await fusion.chat({ model: 'my/model', messages: [{ role: 'user', content: 'Hi' }] });
 * @module
 */

export { type ApiKeyOptions, type ApiKeyPrincipal, ApiKeys } from './auth/api-keys.js';
export { MemoryRateLimiter, type RateLimiterLike, type RateLimitVerdict } from './auth/rate-limiter.js';
export {
  AbortedError,
  AuthenticationError,
  FusionError,
  type FusionErrorOptions,
  InvalidRequestError,
  MethodNotAllowedError,
  ModelCrashedError,
  ModelNotFoundError,
  NotFoundError,
  type OpenAIErrorBody,
  PayloadTooLargeError,
  PermissionDeniedError,
  QueueFullError,
  RateLimitError,
  TimeoutError,
  toFusionError,
  UnavailableError,
  UnsupportedError,
  UnsupportedMediaTypeError,
  UpstreamError,
} from './errors/index.js';
export { EventBus, type FusionEventListener } from './events/event-bus.js';
export type { FusionEventName, FusionEvents } from './events/fusion-events.js';
export { createFusion, Fusion } from './fusion/fusion.js';
export type { CloseOptions, FusionOptions, QueueLimits, RequestOptions } from './fusion/fusion-options.js';
export type { HealthReport } from './fusion/health-report.js';
export type { FusionPluginApi } from './fusion/plugin-api.js';
export type { SecurityOptions } from './http/request-guard.js';
export {
  type ChatBatchInput,
  type ChatBatchItem,
  type CreateJobOptions,
  chatBatchJob,
  isFinalStatus,
  type JobAccess,
  type JobContext,
  type JobHandler,
  type JobPage,
  type JobProgress,
  type JobProgressUpdate,
  type JobRecord,
  type JobRequest,
  type JobRoutesOptions,
  JobRunner,
  type JobRunnerLike,
  type JobRunnerOptions,
  type JobSnapshot,
  type JobStatus,
  type JobsPluginOptions,
  type JobWebhook,
  type JobWebhookStatus,
  jobRoutes,
  jobsPlugin,
} from './jobs/index.js';
export { definePipeline } from './pipelines/pipeline-definition.js';
export { Pipeline, type PipelineDependencies } from './pipelines/pipeline-runner.js';
export { TraceStore, type TraceStoreOptions } from './pipelines/trace-store.js';
export { type ModelQueueStats, type QueueStats, RequestQueue } from './queue/request-queue.js';
export { ModelRegistry, type ModelRegistryOptions } from './registry/model-registry.js';
export type { ModelListEntry, RegisteredModel } from './registry/registered-model.js';
export { Budget, BudgetExceededError } from './resilience/budget.js';
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
} from './resilience/circuit-breaker.js';
export type { RetryPolicy } from './resilience/retry-policy.js';
export { type ResilienceOptions, TargetHealth } from './resilience/target-health.js';
export {
  type CapabilityRouterOptions,
  type CostRouterOptions,
  calibrateThreshold,
  capabilityRouter,
  complexityScorer,
  costRouter,
  type EmbedTexts,
  type ExplicitRouterOptions,
  explicitRouter,
  type LatencyRouterOptions,
  type LatencySample,
  LatencyTracker,
  type LatencyTrackerOptions,
  latencyRouter,
  leastBusyRouter,
  type RequestScorer,
  type SemanticRoute,
  type SemanticRouterOptions,
  semanticRouter,
  type ThresholdRouterOptions,
  thresholdRouter,
  type WeightedRandomRouterOptions,
  weightedRandomRouter,
} from './routing/index.js';
export type {
  AssistantMessage,
  AudioContentPart,
  BudgetLimits,
  CallHookContext,
  CallOptions,
  ChatChoice,
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResult,
  ChatRole,
  ChunkChoice,
  ChunkDelta,
  ChunkSource,
  ContentPart,
  Embedding,
  EmbedRequest,
  EmbedResult,
  FinishReason,
  ForwardRequest,
  FusionStrategyV1,
  FusionTrace,
  HealthCheck,
  HealthStatus,
  HookContext,
  HookOptions,
  ImageContentPart,
  MetadataFilter,
  ModelCapabilities,
  ModelInfo,
  ModelPricing,
  PipelineDefinition,
  PipelineLimits,
  PluginApi,
  PluginCallOptions,
  PluginHooks,
  PluginV1,
  ProviderV1,
  RegisterProviderOptions,
  ResponseFormat,
  ResultMessage,
  RetrievedChunk,
  RetrieveOptions,
  RetrieverV1,
  RouteContext,
  RouteHandler,
  RouteOptions,
  RouterV1,
  RouteTarget,
  StrategyContext,
  StrategyEvent,
  SystemMessage,
  TargetCall,
  TargetCallOptions,
  TargetState,
  TargetStream,
  TextContentPart,
  ToolAnnotations,
  ToolCall,
  ToolCallDelta,
  ToolChoice,
  ToolDefinition,
  ToolMessage,
  ToolResult,
  ToolV1,
  TraceCall,
  Usage,
  UserMessage,
} from './spec/index.js';
export type { KeyvLike } from './state/keyv-like.js';
export {
  type BestOfNOptions,
  bestOfNStrategy,
  builtinStrategies,
  type FallbackOptions,
  fallbackStrategy,
  type MixtureOfAgentsOptions,
  mixtureOfAgentsStrategy,
  type RaceOptions,
  type RankedItem,
  type ReciprocalRankFusionOptions,
  raceStrategy,
  reciprocalRankFusion,
  singleStrategy,
  type VoteOptions,
  voteStrategy,
} from './strategies/index.js';
export type { ReadyValues } from './util/ready-values.js';
export { parseChatRequest } from './validation/chat-request-schema.js';
export { parseEmbedRequest } from './validation/embed-request-schema.js';
