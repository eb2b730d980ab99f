import { UnavailableError, UnsupportedError } from '@fusionkit/core';
import type { EmbedCallOptions, Embedder } from '../embedding/embedder.js';
import { isEmbeddingOutage, reasonOf } from '../embedding/embedding-outage.js';
import { type ApplyContext, applyDocuments, planDocuments } from './apply-documents.js';
import type { DocumentInput } from './records.js';

/** What one batch changed. */
export interface BatchCounts {
  added: number;
  updated: number;
  unchanged: number;
  chunksAdded: number;
  chunksRemoved: number;
  /** Whether anything changed (and so needs a commit). */
  changed: boolean;
}

/**
 * Plans a batch (validate, skip unchanged, split), embeds only the chunks the vector index lacks,
 * then applies everything at once. Nothing changes before the embeddings are in, so a failed
 * embedding call leaves the collection as it was.
 */
export async function ingestBatch(
  context: ApplyContext,
  batch: readonly DocumentInput[],
  embedder: Embedder | undefined,
  callOptions: EmbedCallOptions,
): Promise<BatchCounts> {
  const plan = planDocuments(context, batch);
  const { config } = context.state;
  let vectors: Map<string, number[]> | undefined;
  if (config.vector && plan.newChunks.length > 0) {
    if (!embedder) {
      throw new UnsupportedError(
        `Collection '${config.name}' has a vector index: open it with an embedder to ingest`,
      );
    }
    const texts = plan.newChunks.map((chunk) => chunk.text);
    let embedded: number[][];
    try {
      embedded = await embedder.embed(texts, callOptions);
    } catch (error) {
      if (callOptions.signal?.aborted || !isEmbeddingOutage(error)) throw error;
      // The caller puts the collection back to its last commit: nothing of this ingest stays half-done.
      throw new UnavailableError(
        `The embedding model '${embedder.model}' of collection '${config.name}' is unavailable (${reasonOf(error)}): nothing was ingested since the collection's last commit. Try again when the model is back.`,
        { code: 'embedding_model_unavailable', cause: error, retryAfterMs: 5000 },
      );
    }
    vectors = new Map(plan.newChunks.map((chunk, index) => [chunk.id, embedded[index]!]));
    if (!config.vector.model) config.vector.model = embedder.model;
  }
  const counts = applyDocuments(context, plan.documents, [], vectors);
  return { ...counts, unchanged: plan.unchanged, changed: plan.documents.length > 0 };
}
