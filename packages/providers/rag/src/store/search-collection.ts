import {
  InvalidRequestError,
  type MetadataFilter,
  type RetrievedChunk,
  reciprocalRankFusion,
  UnsupportedError,
} from '@fusionkit/core';
import { type Embedder, embedCallOptions } from '../embedding/embedder.js';
import { isEmbeddingOutage, reasonOf } from '../embedding/embedding-outage.js';
import { compileFilter } from '../filters/compile-filter.js';
import type { ScoredId } from '../lexical/bm25-options.js';
import {
  cosine,
  type MmrOptions,
  maximalMarginalRelevance,
  wordOverlap,
} from '../rerank/maximal-marginal-relevance.js';
import type { CollectionState } from './collection-storage.js';

/** How to rank: BM25 alone, vectors alone, or both fused by reciprocal rank. */
export type SearchMode = 'bm25' | 'vector' | 'hybrid';

/** A search of one collection. */
export interface SearchRequest {
  query: string;
  /** How many chunks. @default 5 */
  k?: number;
  /** @default 'hybrid' when the collection has vectors and an embedder, else 'bm25' */
  mode?: SearchMode;
  /** Mongo-style filter on chunk metadata (document metadata, `headings`, `documentId`, `uri`, `title`, `format`). */
  filter?: MetadataFilter;
  signal?: AbortSignal;
  /** The request searching, sent with the question's embedding call. */
  requestId?: string;
  /** The API key searching: the embedding of the question is charged to it. */
  apiKeyId?: string;
  /** Hits taken from each list before fusing (hybrid only). @default max(4 × k, 50) */
  candidates?: number;
  /** Reciprocal-rank-fusion weights `[bm25, vector]`. @default [1, 1] */
  weights?: [number, number];
  /** HNSW candidate list size for this search. @default the collection's `ef` */
  ef?: number;
  /**
   * The query's vector, when the caller has it already ("more like this", its own embedding): the
   * embedder is not called. Must come from the collection's embedding model.
   */
  vector?: readonly number[];
  /**
   * Diversify the results with maximal marginal relevance: `candidates` chunks are ranked, then `k`
   * are picked trading relevance (`lambda`) against similarity to the ones already picked (their
   * vectors' cosine when they have vectors, else their word overlap). Scores stay the ranking's.
   * @example { lambda: 0.5 }
   */
  mmr?: MmrOptions;
  /**
   * Drops results scoring below this, before `mmr` picks. Scores are the mode's: BM25 scores
   * (unbounded), cosine similarity for 'vector' (−1…1), reciprocal-rank-fusion scores for 'hybrid'
   * (at most the sum of the weights / 61, ≈ 0.033 with default weights).
   */
  minScore?: number;
  /**
   * Called when a hybrid search answered from BM25 alone because the embedding model could not be
   * reached (a 5xx or a network failure of the embedder); a `vector` search fails instead.
   */
  onDegraded?: (reason: string) => void;
}

/** What a search needs from its collection. */
export interface SearchContext {
  state: CollectionState;
  embedder: Embedder | undefined;
  /** The filterable fields of a chunk. */
  viewOf(chunkId: string): Record<string, unknown> | undefined;
}

function validate(request: SearchRequest): { k: number; ranked: number; lambda?: number } {
  if (typeof request?.query !== 'string' || request.query.length > 20_000) {
    throw new InvalidRequestError('query must be a string of at most 20000 characters', { param: 'query' });
  }
  const k = request.k ?? 5;
  if (!Number.isInteger(k) || k < 1 || k > 1000) {
    throw new InvalidRequestError('k must be an integer from 1 to 1000', { param: 'k' });
  }
  if (request.vector !== undefined && !Array.isArray(request.vector)) {
    throw new InvalidRequestError('vector must be an array of numbers', { param: 'vector' });
  }
  if (request.mode !== undefined && !['bm25', 'vector', 'hybrid'].includes(request.mode)) {
    throw new InvalidRequestError("mode must be 'bm25', 'vector' or 'hybrid'", { param: 'mode' });
  }
  if (request.minScore !== undefined && !Number.isFinite(request.minScore)) {
    throw new InvalidRequestError('minScore must be a finite number', { param: 'min_score' });
  }
  const { mmr } = request;
  if (mmr === undefined) return { k, ranked: k };
  if (typeof mmr !== 'object' || mmr === null) {
    throw new InvalidRequestError('mmr must be an object: { lambda, candidates }', { param: 'mmr' });
  }
  const lambda = mmr.lambda ?? 0.5;
  if (typeof lambda !== 'number' || !(lambda >= 0 && lambda <= 1)) {
    throw new InvalidRequestError('mmr.lambda must be a number from 0 to 1', { param: 'mmr.lambda' });
  }
  const candidates = mmr.candidates ?? Math.max(4 * k, 20);
  if (!Number.isInteger(candidates) || candidates < k || candidates > 1000) {
    throw new InvalidRequestError(`mmr.candidates must be an integer from k (${k}) to 1000`, {
      param: 'mmr.candidates',
    });
  }
  return { k, ranked: candidates, lambda };
}

/** The score threshold, then maximal marginal relevance, then the best `k`. */
function pick(
  state: CollectionState,
  ranked: readonly ScoredId[],
  request: SearchRequest,
  k: number,
  lambda: number | undefined,
): ScoredId[] {
  const { minScore } = request;
  const kept = minScore === undefined ? ranked : ranked.filter((item) => item.score >= minScore);
  if (lambda === undefined) return kept.slice(0, k);
  const vectors = state.vectors;
  const text = (id: string) => state.chunks.get(id)?.text ?? '';
  return maximalMarginalRelevance(
    kept,
    k,
    (left, right) => {
      const a = vectors?.vectorOf(left);
      const b = a && vectors?.vectorOf(right);
      return a && b ? Math.max(0, cosine(a, b)) : wordOverlap(text(left), text(right));
    },
    lambda,
  );
}

/**
 * Searches a collection's state. The filter is compiled once and applied inside both indexes (BM25
 * never scores a rejected chunk; hnswlib skips it during the graph walk), so `k` results come back
 * whenever `k` chunks match.
 */
export async function searchCollection(
  context: SearchContext,
  request: SearchRequest,
): Promise<RetrievedChunk[]> {
  const { k, ranked: want, lambda } = validate(request);
  const { state, embedder } = context;
  const canVector =
    state.config.vector !== undefined && (embedder !== undefined || request.vector !== undefined);
  const mode = request.mode ?? (canVector ? 'hybrid' : 'bm25');
  if (mode !== 'bm25' && !canVector) {
    const why = state.config.vector ? 'it was opened without an embedder' : 'it has no vector index';
    throw new UnsupportedError(`Collection '${state.config.name}' cannot do ${mode} search: ${why}`, {
      param: 'mode',
    });
  }
  let filter: ((id: string) => boolean) | undefined;
  if (request.filter !== undefined && Object.keys(request.filter).length > 0) {
    const predicate = compileFilter(request.filter);
    filter = (id) => {
      const view = context.viewOf(id);
      return view !== undefined && predicate(view);
    };
  }
  // Ranked: `want` (k, or the MMR candidates); returned: the best k of them.
  const depth = mode === 'hybrid' ? Math.max(request.candidates ?? Math.max(4 * want, 50), want) : want;
  const lexical =
    mode === 'vector' ? [] : state.bm25.search(request.query, { k: depth, ...(filter ? { filter } : {}) });
  let semantic: ScoredId[] = [];
  // A vector collection that holds no vector yet has nothing to add to the ranking.
  if (mode !== 'bm25' && state.vectors && state.vectors.size > 0) {
    let vector = request.vector;
    if (!vector) {
      try {
        vector = (await embedder!.embed([request.query], embedCallOptions(request)))[0]!;
      } catch (error) {
        // BM25 can still answer a hybrid search when the embedding model is down; a bad request cannot.
        if (mode !== 'hybrid' || request.signal?.aborted || !isEmbeddingOutage(error)) throw error;
        request.onDegraded?.(
          `The embedding model '${embedder!.model}' is unavailable (${reasonOf(error)}); results are from BM25 only.`,
        );
        return toRetrievedChunks(state, pick(state, lexical.slice(0, want), request, k, lambda));
      }
    }
    semantic = state.vectors.search(vector, {
      k: depth,
      ...(filter ? { filter } : {}),
      ...(request.ef ? { ef: request.ef } : {}),
    });
  }
  const ranked =
    mode === 'bm25'
      ? lexical
      : mode === 'vector'
        ? semantic
        : reciprocalRankFusion([lexical, semantic], { k: 60, weights: request.weights ?? [1, 1] }).slice(
            0,
            want,
          );
  return toRetrievedChunks(state, pick(state, ranked, request, k, lambda));
}

function toRetrievedChunks(state: CollectionState, ranked: readonly ScoredId[]): RetrievedChunk[] {
  const results: RetrievedChunk[] = [];
  for (const { id, score } of ranked) {
    const chunk = state.chunks.get(id);
    const document = chunk && state.documents.get(chunk.documentId);
    if (!chunk || !document) continue;
    results.push({
      id,
      documentId: document.id,
      text: chunk.text,
      score,
      source: {
        ...(document.uri ? { uri: document.uri } : {}),
        ...(document.title ? { title: document.title } : {}),
        span: { start: chunk.start, end: chunk.end },
      },
      metadata: { ...document.metadata, ...chunk.metadata },
    });
  }
  return results;
}
