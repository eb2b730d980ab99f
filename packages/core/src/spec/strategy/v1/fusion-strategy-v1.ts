import type { CallOptions } from '../../call-options.js';
import type { ChatChunk } from '../../chat/chat-chunk.js';
import type { ChatRequest } from '../../chat/chat-request.js';
import type { ChatResult } from '../../chat/chat-result.js';
import type { RouteTarget } from '../../router/v1/router-v1.js';
import type { FusionTrace, TraceCall } from './fusion-trace.js';

/** Options a strategy may pass to one call. */
export interface TargetCallOptions {
  /** A signal that aborts just this call (a lost race, a hung vote). Combined with the request's. */
  signal?: AbortSignal;
  /** Role recorded in the trace. */
  role?: string;
  /** Keep the answer text in the trace. @default false */
  recordOutput?: boolean;
}

/**
 * Calls one target. Applies the queue, retries with backoff, the circuit breaker and timeouts, and
 * records the call in the trace.
 */
export type TargetCall = (
  target: RouteTarget,
  request: ChatRequest,
  options?: TargetCallOptions,
) => Promise<ChatResult>;

/** Streams from one target, with the same protections as {@link TargetCall}. */
export type TargetStream = (
  target: RouteTarget,
  request: ChatRequest,
  options?: TargetCallOptions,
) => AsyncIterable<ChatChunk>;

/**
 * A step of a strategy worth observing as it happens; the orchestrator puts it on its event bus:
 * `hedge` as `hedge:fire`, `tally` as `vote:tally`, and a strategy's own steps (`custom`, with a
 * `name` and any `data`) as `strategy:event`.
 *
 * @example
 * context.emit?.({ type: 'custom', name: 'judge:pick', data: { winner: 'lab/qwen3-4b' } });
 */
export type StrategyEvent =
  | { type: 'hedge'; target: string; afterMs: number }
  | { type: 'tally'; tally: Record<string, number>; winner?: string }
  | { type: 'custom'; name: string; data?: Record<string, unknown> };

/** What a strategy works with. */
export interface StrategyContext<TOptions = Record<string, unknown>> {
  request: ChatRequest;
  /** Routed targets, best first. Never empty. */
  targets: readonly RouteTarget[];
  call: TargetCall;
  stream: TargetStream;
  /** Strategy options from the pipeline definition or the inline spec. */
  options: TOptions;
  /** Request-wide signal, deadline and id. */
  callOptions: CallOptions;
  /** The trace being built; strategies add their `decision` and may mark it `partial`. */
  trace: FusionTrace;
  /** Records a call the strategy made outside `call`/`stream`. */
  record(call: TraceCall): void;
  /** Reports a step (a hedge fired, a vote tallied) as it happens. */
  emit?(event: StrategyEvent): void;
}

/**
 * Turns several targets into one answer: single, fallback, race, vote, best-of-n, mixture-of-agents.
 */
export interface FusionStrategyV1<TOptions = Record<string, unknown>> {
  readonly specificationVersion: 'v1';
  /** @example 'fallback' */
  readonly name: string;
  /** One line for `/api/fusion/strategies`, including how it streams. */
  readonly description?: string;
  doChat(context: StrategyContext<TOptions>): Promise<ChatResult>;
  /**
   * Streams the answer. Strategies without a natural stream (vote, best-of-n) may compute the
   * answer with `doChat` and emit it as a stream; the orchestrator does that when this is omitted.
   */
  doStream?(context: StrategyContext<TOptions>): AsyncIterable<ChatChunk>;
}
