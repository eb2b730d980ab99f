import type { RetrievedChunk } from '@fusionkit/core';
import { type FusionEvents, toFusionError } from '@fusionkit/core';
import type { SearchRequest } from '../store/search-collection.js';

type RetrievalEventName = 'retrieval:start' | 'retrieval:end' | 'retrieval:error';

/** The part of the orchestrator's event bus retrieval reports to (`fusion.events` fits). */
export interface RetrievalEvents {
  emit<TName extends RetrievalEventName>(name: TName, payload: FusionEvents[TName]): void;
}

/** What an observed search needs of its collection. */
interface SearchedCollection {
  readonly name: string;
  readonly defaultSearchMode: string;
  search(request: SearchRequest): Promise<RetrievedChunk[]>;
}

/** The event bus of an orchestrator, when it has one. */
export function eventsOf(fusion: unknown): RetrievalEvents | undefined {
  const events = (fusion as { events?: Partial<RetrievalEvents> } | undefined)?.events;
  return typeof events?.emit === 'function' ? (events as RetrievalEvents) : undefined;
}

/**
 * `collection.search(request)`, reported on the orchestrator's bus as `retrieval:start` and
 * `retrieval:end` (hits, duration, and the BM25 fallback when the embedder was down) or
 * `retrieval:error`, for metrics and tracing. Without a bus it is the plain search.
 */
export async function observedSearch(
  collection: SearchedCollection,
  request: SearchRequest,
  events: RetrievalEvents | undefined,
  requestId: string,
): Promise<RetrievedChunk[]> {
  if (!events) return collection.search(request);
  const base = {
    requestId,
    collection: collection.name,
    k: request.k ?? 5,
    mode: request.mode ?? collection.defaultSearchMode,
  };
  events.emit('retrieval:start', base);
  const startedAt = performance.now();
  let degraded: { mode: 'bm25'; reason: string } | undefined;
  try {
    const chunks = await collection.search({
      ...request,
      onDegraded: (reason) => {
        degraded = { mode: 'bm25', reason };
        request.onDegraded?.(reason);
      },
    });
    const durationMs = performance.now() - startedAt;
    events.emit('retrieval:end', {
      ...base,
      hits: chunks.length,
      durationMs,
      ...(degraded ? { degraded } : {}),
    });
    return chunks;
  } catch (error) {
    events.emit('retrieval:error', {
      ...base,
      durationMs: performance.now() - startedAt,
      error: toFusionError(error),
    });
    throw error;
  }
}
