import type { FusionError } from '../errors/fusion-error.js';
import type { Usage } from '../spec/chat/chat-result.js';

/**
 * Every event of the orchestrator's bus, by name. Names are `noun:action`; payloads always carry the
 * `requestId` of the client request they belong to when there is one.
 */
export interface FusionEvents {
  /** A request reached `handle`. */
  'request:start': {
    requestId: string;
    method: string;
    path: string;
    /** The request's W3C `traceparent` header, when it has one. */
    traceparent?: string;
  };
  /** `handle` produced a response (for streams: when the headers went out). */
  'request:end': { requestId: string; method: string; path: string; status: number; durationMs: number };
  /** `handle` answered with an error. */
  'request:error': { requestId: string; method: string; path: string; error: FusionError };

  /** A provider call begins (one per attempt). */
  'provider:call:start': {
    requestId: string;
    provider: string;
    model: string;
    stream: boolean;
    attempt: number;
  };
  /** A provider call ended well; for streams when the stream ended. */
  'provider:call:end': {
    requestId: string;
    provider: string;
    model: string;
    stream: boolean;
    durationMs: number;
    firstTokenMs?: number;
    usage?: Usage;
    /** The `id` of the API key the call was made for, when it carried one (its tokens count there). */
    apiKeyId?: string;
  };
  'provider:call:error': {
    requestId: string;
    provider: string;
    model: string;
    stream: boolean;
    durationMs: number;
    error: FusionError;
  };

  /** A provider failed its health check or model discovery. */
  'provider:error': { provider: string; error: FusionError };

  /** A stream's first chunk went to the client. */
  'stream:start': { requestId: string; model: string };
  /** A chunk went to the client. Only built when someone listens. */
  'stream:delta': { requestId: string; model: string; content: string };
  'stream:end': { requestId: string; model: string; usage?: Usage };
  'stream:error': { requestId: string; model: string; error: FusionError };

  /**
   * A call that had to wait in the queue got its slot: `waitedMs` in line, behind `queued` others
   * of its model.
   */
  'queue:wait': { requestId: string; model: string; queued: number; waitedMs: number };
  /** A retriever began a search: `k` chunks wanted from `collection` with `mode`. */
  'retrieval:start': { requestId: string; collection: string; k: number; mode: string };
  /**
   * A search answered `hits` chunks; `degraded` when it fell back (e.g. a hybrid search answered from
   * BM25 because the embedder was down).
   */
  'retrieval:end': {
    requestId: string;
    collection: string;
    k: number;
    mode: string;
    hits: number;
    durationMs: number;
    degraded?: { mode: string; reason: string };
  };
  /** A search failed. */
  'retrieval:error': {
    requestId: string;
    collection: string;
    k: number;
    mode: string;
    durationMs: number;
    error: FusionError;
  };
  /**
   * The queue refused a call (429 `queue_full`): the model's waiting line was full (`model`), the
   * server's was (`global`), or the call waited `waitTimeoutMs` without a slot (`timeout`).
   */
  'queue:reject': { requestId: string; model: string; reason: 'global' | 'model' | 'timeout' };

  'model:register': { model: string; provider: string };
  'model:unregister': { model: string; provider: string };
  'model:load': { model: string; bytes?: number; durationMs: number };
  'model:unload': { model: string; reason: 'request' | 'evicted' };
  'model:error': { model: string; error: FusionError };

  /** A router ordered the targets of a pipeline request. */
  'route:choose': { requestId: string; pipeline: string; router: string; targets: string[] };
  /** A target call begins an attempt (the first, or a retry). */
  'call:attempt': { requestId: string; target: string; attempt: number; role?: string };
  /** A target call failed and will be tried again after `delayMs`. */
  'call:retry': { requestId: string; target: string; attempt: number; delayMs: number; error: FusionError };
  /** A target's circuit opened: calls to it are refused until its cooldown passes. */
  'breaker:open': { model: string };
  /** A target's circuit let a probe call through. */
  'breaker:half-open': { model: string };
  /** A target's circuit closed again. */
  'breaker:close': { model: string };
  /** A hedging strategy started another target because the first was slow. */
  'hedge:fire': { requestId: string; target: string; afterMs: number };
  /** A voting strategy counted its samples. */
  'vote:tally': { requestId: string; tally: Record<string, number>; winner?: string };
  /** A strategy reported a step of its own (`context.emit({ type: 'custom', name, data })`). */
  'strategy:event': { requestId: string; strategy: string; name: string; data?: Record<string, unknown> };
  /** A pipeline request ended (well or not). */
  'pipeline:end': {
    requestId: string;
    pipeline: string;
    strategy: string;
    calls: number;
    partial: boolean;
    durationMs: number;
    traceId: string;
    /** Why the request failed, when it did. */
    error?: FusionError;
  };

  /** The orchestrator began closing; adapters stop accepting. */
  'fusion:close': Record<string, never>;
}

export type FusionEventName = keyof FusionEvents;
