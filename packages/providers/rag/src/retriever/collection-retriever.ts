import type { MetadataFilter, RetrievedChunk, RetrieveOptions, RetrieverV1 } from '@fusionkit/core';
import type { Collection } from '../store/collection.js';
import type { SearchMode, SearchRequest } from '../store/search-collection.js';

export interface CollectionRetrieverOptions {
  collection: Collection;
  /** Name in the registry. @default the collection's name */
  name?: string;
  /** @default 'hybrid' when the collection has vectors and an embedder, else 'bm25' */
  mode?: SearchMode;
  /** Applied to every retrieval, and-ed with the request's filter. */
  filter?: MetadataFilter;
  /** HNSW `ef` for these searches. */
  ef?: number;
  /** Diversify results with maximal marginal relevance. @example { lambda: 0.5 } */
  mmr?: SearchRequest['mmr'];
  /** Drop results scoring below this (the mode's scores; see {@link SearchRequest.minScore}). */
  minScore?: number;
}

/**
 * A {@link RetrieverV1} over one collection: `doRetrieve(query, { k, filter, signal })` returns the
 * collection's best chunks with their source URI, title and character span, for citations.
 *
 * @example api.registerRetriever(createCollectionRetriever({ collection: await rag.getCollection('docs') }))
 */
export function createCollectionRetriever(options: CollectionRetrieverOptions): RetrieverV1 {
  const { collection } = options;
  return {
    specificationVersion: 'v1',
    name: options.name ?? collection.name,
    doRetrieve(query: string, retrieveOptions: RetrieveOptions): Promise<RetrievedChunk[]> {
      const filters = [options.filter, retrieveOptions.filter].filter(
        (filter): filter is MetadataFilter => filter !== undefined && Object.keys(filter).length > 0,
      );
      return collection.search({
        query,
        k: retrieveOptions.k ?? 5,
        signal: retrieveOptions.signal,
        requestId: retrieveOptions.requestId,
        ...(retrieveOptions.apiKeyId === undefined ? {} : { apiKeyId: retrieveOptions.apiKeyId }),
        ...(options.mode ? { mode: options.mode } : {}),
        ...(options.ef ? { ef: options.ef } : {}),
        ...(options.mmr ? { mmr: options.mmr } : {}),
        ...(options.minScore !== undefined ? { minScore: options.minScore } : {}),
        ...(filters.length === 1
          ? { filter: filters[0]! }
          : filters.length > 1
            ? { filter: { $and: filters } }
            : {}),
      });
    },
  };
}
