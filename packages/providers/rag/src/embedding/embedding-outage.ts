import { FusionError } from '@fusionkit/core';

/**
 * Whether an embedder failure is the model's or the network's (a 5xx, a retryable error, a failed
 * connection), not the request's: BM25 can answer a search meanwhile, and an ingest should say the
 * model is down rather than fail with a 500.
 */
export function isEmbeddingOutage(error: unknown): boolean {
  if (FusionError.isInstance(error)) return error.status >= 500 || error.isRetryable;
  return error instanceof TypeError || (error as NodeJS.ErrnoException)?.code !== undefined;
}

/** An error's message, for a sentence. */
export function reasonOf(error: unknown): string {
  return String((error as Error)?.message ?? error);
}
