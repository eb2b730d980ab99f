/**
 * The versioned interfaces of the Fusion Orchestrator and the OpenAI-compatible data shapes they use.
 * @module
 */
export type { CallOptions } from './call-options.js';
export type { ChatChunk, ChunkChoice, ChunkDelta, ToolCallDelta } from './chat/chat-chunk.js';
export type {
  AssistantMessage,
  AudioContentPart,
  ChatMessage,
  ChatRole,
  ContentPart,
  ImageContentPart,
  SystemMessage,
  TextContentPart,
  ToolCall,
  ToolMessage,
  UserMessage,
} from './chat/chat-message.js';
export type { ChatRequest, ResponseFormat, ToolChoice, ToolDefinition } from './chat/chat-request.js';
export type { ChatChoice, ChatResult, FinishReason, ResultMessage, Usage } from './chat/chat-result.js';
export type { EmbedRequest } from './embedding/embed-request.js';
export type { Embedding, EmbedResult } from './embedding/embed-result.js';
export type { HealthStatus } from './health.js';
export type { ModelCapabilities, ModelInfo, ModelPricing } from './model/model-info.js';
export type { BudgetLimits, PipelineDefinition, PipelineLimits } from './pipeline/pipeline-definition.js';
export type {
  CallHookContext,
  HealthCheck,
  HookContext,
  HookOptions,
  PluginApi,
  PluginCallOptions,
  PluginHooks,
  PluginV1,
  RegisterProviderOptions,
  RouteHandler,
  RouteOptions,
} from './plugin/v1/plugin-v1.js';
export type { ForwardRequest } from './provider/v1/forward-request.js';
export type { ProviderV1 } from './provider/v1/provider-v1.js';
export type {
  ChunkSource,
  MetadataFilter,
  RetrievedChunk,
  RetrieveOptions,
  RetrieverV1,
} from './retriever/v1/retriever-v1.js';
export type { RouteContext, RouterV1, RouteTarget, TargetState } from './router/v1/router-v1.js';
export type {
  FusionStrategyV1,
  StrategyContext,
  StrategyEvent,
  TargetCall,
  TargetCallOptions,
  TargetStream,
} from './strategy/v1/fusion-strategy-v1.js';
export type { FusionTrace, TraceCall } from './strategy/v1/fusion-trace.js';
export type { ToolAnnotations, ToolResult, ToolV1 } from './tool/v1/tool-v1.js';
