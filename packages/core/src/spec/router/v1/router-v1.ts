import type { ChatRequest } from '../../chat/chat-request.js';
import type { ModelInfo } from '../../model/model-info.js';

/** A model chosen to serve (part of) a request. */
export interface RouteTarget {
  /** Registered model id (with provider prefix) or alias. @example 'lab/qwen3-4b' */
  model: string;
  /** Relative weight for weighted strategies. @default 1 */
  weight?: number;
  /** Request fields that override the client's for this target (e.g. a lower `temperature`). */
  params?: Partial<ChatRequest>;
}

/** The registry's live view of one candidate, as routers see it. */
export interface TargetState {
  /** Registered model id. */
  model: string;
  /** The provider's description of the model. */
  info: ModelInfo;
  /** Provider id. */
  provider: string;
  /** False when health checks fail or the model is not loaded and cannot be. */
  healthy: boolean;
  /** Circuit breaker state of the target. */
  circuit: 'closed' | 'open' | 'half-open';
  /** Calls running here now. */
  inFlight: number;
  /** Calls waiting in this orchestrator's queue for the target. */
  queued: number;
  /** Requests waiting upstream, from the provider's health (mlx-openai-server `/v1/queue/stats`). */
  upstreamQueueDepth: number;
  /** Exponentially weighted moving averages, in milliseconds; `undefined` before the first call. */
  latency: { firstTokenMs?: number; totalMs?: number };
}

/** What a router decides from. */
export interface RouteContext {
  request: ChatRequest;
  /** Every model the request may go to (the pipeline's targets, or all chat models). */
  candidates: readonly TargetState[];
  requestId: string;
  signal: AbortSignal;
}

/**
 * Orders the candidates for a request. Strategies take the result as their targets: `single` uses
 * the first, `fallback` walks the list, `race` and `vote` use several.
 */
export interface RouterV1 {
  readonly specificationVersion: 'v1';
  /** @example 'least-busy' */
  readonly name: string;
  /**
   * Returns the targets in order of preference. An empty list means no candidate fits; the
   * orchestrator answers 503 `no_route`.
   */
  doRoute(context: RouteContext): RouteTarget[] | Promise<RouteTarget[]>;
}
