/** Where a retrieved chunk comes from, for citations. */
export interface ChunkSource {
  /** @example 'file:///docs/setup.md' or 'https://example.com/page' */
  uri?: string;
  title?: string;
  /** Character offsets of the chunk within its document. */
  span?: { start: number; end: number };
}

/** One scored piece of a document. */
export interface RetrievedChunk {
  /** Stable id (content hash). */
  id: string;
  documentId: string;
  text: string;
  /** Higher is better; scales differ between retrievers. */
  score: number;
  source?: ChunkSource;
  metadata?: Record<string, unknown>;
}

/** A Mongo-style metadata filter (`$eq $ne $in $nin $gt $gte $lt $lte $and $or`). */
export type MetadataFilter = Record<string, unknown>;

export interface RetrieveOptions {
  /** How many chunks to return. @default 5 */
  k: number;
  filter?: MetadataFilter;
  signal: AbortSignal;
  requestId: string;
  /** The API key the request was made with: a retriever that calls a model (an embedding) charges it. */
  apiKeyId?: string;
}

/** A source of context for a request: a RAG collection, a web search, a test double. */
export interface RetrieverV1 {
  readonly specificationVersion: 'v1';
  /** @example 'docs' */
  readonly name: string;
  doRetrieve(query: string, options: RetrieveOptions): Promise<RetrievedChunk[]>;
}
