import { InvalidRequestError, UpstreamError } from '@fusionkit/core';
import { throwIfAborted } from '@fusionkit/core/internal';
import Keyv from 'keyv';
import { contentHash } from '../util/content-hash.js';
import { BoundedMap } from './bounded-map.js';
import type { EmbedCallOptions, Embedder, EmbedFunction } from './embedder.js';

export interface CachedEmbedderOptions {
  /** Model name: vectors of different models never share a cache entry. */
  model: string;
  /** Embeds one batch. @example (texts, { signal }) => fusion.embed({ model, input: texts }, { signal }).then(...) */
  embed: EmbedFunction;
  /** Texts per call to `embed`. @default 64 */
  batchSize?: number;
  /**
   * Where vectors are cached, keyed by model + SHA-256 of the text. Pass a Keyv over SQLite or Redis
   * to keep them across restarts, or `false` for none. @default an in-memory LRU of 10_000 vectors
   */
  cache?: Keyv | false;
}

/** Counters of what the cache saved. */
export interface EmbedderStats {
  hits: number;
  misses: number;
  batches: number;
}

/**
 * An {@link Embedder} that batches calls, embeds each distinct text once per call, and caches vectors
 * in keyv, so re-ingesting a changed document only embeds its new chunks' texts.
 */
export function createCachedEmbedder(
  options: CachedEmbedderOptions,
): Embedder & { readonly stats: EmbedderStats } {
  const batchSize = Math.max(1, options.batchSize ?? 64);
  const cache =
    options.cache === false
      ? undefined
      : (options.cache ??
        new Keyv({ store: new BoundedMap(10_000), serialize: undefined, deserialize: undefined }));
  const stats: EmbedderStats = { hits: 0, misses: 0, batches: 0 };
  const keyOf = (text: string) => `rag:embedding:${options.model}:${contentHash(text)}`;

  const embedBatch = async (texts: string[], callOptions: EmbedCallOptions): Promise<number[][]> => {
    stats.batches++;
    const vectors = await options.embed(texts, callOptions);
    if (!Array.isArray(vectors) || vectors.length !== texts.length) {
      throw new UpstreamError(
        `Embedding model '${options.model}' returned ${vectors?.length} vectors for ${texts.length} texts`,
      );
    }
    return vectors;
  };

  return {
    model: options.model,
    stats,
    async embed(texts, embedOptions = {}) {
      const { signal } = embedOptions;
      const distinct = [...new Set(texts)];
      const found = new Map<string, number[]>();
      if (cache && distinct.length > 0) {
        const cached = await cache.getMany<number[]>(distinct.map(keyOf));
        distinct.forEach((text, index) => {
          const vector = cached[index];
          if (Array.isArray(vector)) found.set(text, vector);
        });
      }
      const missing = distinct.filter((text) => !found.has(text));
      stats.hits += distinct.length - missing.length;
      stats.misses += missing.length;
      for (let start = 0; start < missing.length; start += batchSize) {
        if (signal) throwIfAborted(signal);
        const batch = missing.slice(start, start + batchSize);
        // Only the texts the cache lacked reach the model, and only they are charged to the key.
        const vectors = await embedBatch(batch, embedOptions);
        batch.forEach((text, index) => {
          found.set(text, vectors[index]!);
        });
        if (cache)
          await cache.setMany(batch.map((text, index) => ({ key: keyOf(text), value: vectors[index]! })));
      }
      const dimensions = found.get(distinct[0]!)?.length;
      return texts.map((text) => {
        const vector = found.get(text)!;
        if (vector.length !== dimensions || vector.length === 0) {
          throw new InvalidRequestError(
            `Embedding model '${options.model}' returned vectors of different lengths`,
            {
              code: 'dimension_mismatch',
            },
          );
        }
        return vector;
      });
    },
  };
}
