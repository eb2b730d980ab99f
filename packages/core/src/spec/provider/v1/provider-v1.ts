import type { CallOptions } from '../../call-options.js';
import type { ChatChunk } from '../../chat/chat-chunk.js';
import type { ChatRequest } from '../../chat/chat-request.js';
import type { ChatResult } from '../../chat/chat-result.js';
import type { EmbedRequest } from '../../embedding/embed-request.js';
import type { EmbedResult } from '../../embedding/embed-result.js';
import type { HealthStatus } from '../../health.js';
import type { ModelInfo } from '../../model/model-info.js';
import type { ForwardRequest } from './forward-request.js';

/**
 * A source of models: an OpenAI-compatible server, an in-process MLX runtime, a test double.
 *
 * Methods starting with `do` are called by the orchestrator only, with the request already validated
 * and normalised and `request.model` set to the provider's own model id (without the provider prefix).
 * They throw {@link FusionError}s (or anything, which the orchestrator converts once).
 */
export interface ProviderV1 {
  readonly specificationVersion: 'v1';
  /** Unique id; prefixes the ids of its models. @example 'lab' */
  readonly id: string;

  /** The models this provider serves now. Called at registration and on refresh. */
  models(options?: { signal?: AbortSignal }): Promise<ModelInfo[]>;

  /** A complete chat answer. */
  doChat(request: ChatRequest, options: CallOptions): Promise<ChatResult>;

  /**
   * A streamed chat answer. The iterable must stop promptly (and release the upstream) when
   * `options.signal` aborts or when the consumer stops iterating (`return()`).
   */
  doStream(request: ChatRequest, options: CallOptions): AsyncIterable<ChatChunk>;

  /**
   * Answers an OpenAI Responses API request itself: for an upstream that serves `/v1/responses`.
   * When present, `POST /v1/responses` for this provider's models is passed through (the body as the
   * client sent it, `model` set to the provider's own id) instead of translated to chat completions;
   * the upstream keeps such responses. Resolves with the upstream's answer, JSON or SSE, as it is;
   * throws a {@link FusionError} for an upstream error. Omitted by providers that only chat.
   */
  doResponses?(body: Record<string, unknown>, options: CallOptions): Promise<Response>;

  /** Embeddings; providers without embedding models omit it. */
  doEmbed?(request: EmbedRequest, options: CallOptions): Promise<EmbedResult>;

  /**
   * Passes a request of another route of the upstream (audio transcriptions, image generations and
   * edits) to it, for routes the orchestrator forwards rather than translates. Resolves with the
   * upstream's answer read in full (the call holds its queue slot until then); an upstream error is
   * thrown as a FusionError, as for chat. Providers without such routes omit it.
   */
  doForward?(request: ForwardRequest, options: CallOptions): Promise<Response>;

  /** Health of the provider and its models. Omitted means always ready. */
  health?(options?: { signal?: AbortSignal }): Promise<HealthStatus>;

  /** Loads a model into memory (for providers that manage memory, like in-process MLX). */
  load?(model: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Frees a loaded model. */
  unload?(model: string): Promise<void>;
  /** Bytes a model occupies when loaded (weights plus caches). */
  memoryBytes?(model: string): number | undefined;

  /** Releases connections, child processes and timers. */
  close?(): Promise<void>;
}
