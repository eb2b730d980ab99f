/** What one embedding call is for: its cancellation, and the request and API key it is made for. */
export interface EmbedCallOptions {
  signal?: AbortSignal;
  /** The request that needs the vectors (a search, an ingest), sent upstream as `x-request-id`. */
  requestId?: string;
  /** The API key that asked: the embedding model's tokens are charged to it (`tokensPerMinute`). */
  apiKeyId?: string;
}

/** Turns texts into vectors. `fusion.embed` with a model name is one; the RAG plugin wires it. */
export interface Embedder {
  /** The embedding model; part of every cache key and recorded with each collection. @example 'mlx/bge-small' */
  readonly model: string;
  /** One vector per text, in order. */
  embed(texts: string[], options?: EmbedCallOptions): Promise<number[][]>;
}

/** The plain function form of {@link Embedder.embed}. */
export type EmbedFunction = (texts: string[], options: EmbedCallOptions) => Promise<number[][]>;

/** The call options of an embedding made for `from` (a search, an ingest), without absent fields. */
export function embedCallOptions(from: EmbedCallOptions): EmbedCallOptions {
  const options: EmbedCallOptions = {};
  if (from.signal) options.signal = from.signal;
  if (from.requestId !== undefined) options.requestId = from.requestId;
  if (from.apiKeyId !== undefined) options.apiKeyId = from.apiKeyId;
  return options;
}
