import type { Fusion, RetrievedChunk } from '@fusionkit/core';

/** What the MCP server uses of the orchestrator: `fusion` itself fits. */
export type McpFusion = Pick<
  Fusion,
  'chat' | 'stream' | 'models' | 'inlinePipeline' | 'runPipeline' | 'strategies' | 'maxBodyBytes'
> &
  Partial<Pick<Fusion, 'events'>>;

/** A collection summary, as the RAG plugin's store lists it. */
export interface RagCollectionInfoLike {
  name: string;
  description?: string;
  documents: number;
  chunks: number;
  createdAt?: string;
  committedAt?: string;
}

/** A document summary. */
export interface RagDocumentLike {
  id: string;
  uri?: string;
  title?: string;
  format?: string;
  metadata?: Record<string, unknown>;
  length?: number;
  updatedAt?: string;
}

/** Something to ingest. Paths and URLs follow the store's rules (roots, private networks refused). */
export type RagSourceLike =
  | {
      type: 'text';
      text: string;
      id?: string;
      title?: string;
      uri?: string;
      metadata?: Record<string, unknown>;
    }
  | { type: 'url'; url: string; metadata?: Record<string, unknown> }
  | { type: 'file'; path: string; metadata?: Record<string, unknown> }
  | { type: 'folder'; path: string; include?: string[]; metadata?: Record<string, unknown> };

/** Counters of an ingest. */
export interface RagIngestProgressLike {
  sources: number;
  documents: number;
  added: number;
  updated: number;
  unchanged: number;
  chunksAdded: number;
  chunksRemoved: number;
}

/** One collection of the RAG plugin's store (`Collection` of `@fusionkit/rag` fits). */
export interface RagCollectionLike {
  readonly name: string;
  search(request: {
    query: string;
    k?: number;
    mode?: 'bm25' | 'vector' | 'hybrid';
    filter?: Record<string, unknown>;
    signal?: AbortSignal;
    /** The API key of the MCP client: the question's embedding is charged to it. */
    apiKeyId?: string;
  }): Promise<RetrievedChunk[]>;
  ingest(
    sources: readonly RagSourceLike[],
    options?: {
      signal?: AbortSignal;
      /** The API key of the MCP client: the embeddings of new chunks are charged to it. */
      apiKeyId?: string;
      onProgress?: (progress: RagIngestProgressLike) => void;
    },
  ): Promise<RagIngestProgressLike & { documentIds: string[]; skipped: { uri: string; reason: string }[] }>;
  listDocuments(page?: { offset?: number; limit?: number }): { total: number; documents: RagDocumentLike[] };
  getDocument(id: string): (RagDocumentLike & { chunks: { id: string; text: string }[] }) | undefined;
}

/**
 * The RAG plugin's store, as the MCP server uses it (`RagStore` of `@fusionkit/rag` fits). With it the
 * server offers `rag_search`, `rag_ingest` and the collection and document resources.
 */
export interface RagStoreLike {
  listCollections(): Promise<RagCollectionInfoLike[]>;
  getCollection(name: string): Promise<RagCollectionLike>;
  /** The store of one API key's own collections (`RagStore.ownedBy`), searched first for that key. */
  ownedBy?(owner: string): RagStoreLike;
}

/** A job as a job runner shows it (`JobSnapshot` of the core's jobs fits). */
export interface JobSnapshotLike {
  id: string;
  kind: string;
  status: string;
  progress: { done: number; total?: number };
  result?: unknown;
  error?: unknown;
}

/** A job runner, as the MCP server uses it (the core's `JobRunner` fits). With it: `job_status`. */
export interface JobsLike {
  /** `access.owner`: the asking API key's id; another owner's job is `undefined` to it. */
  get(id: string, access?: { owner?: string }): JobSnapshotLike | undefined;
}

/**
 * What the RAG plugin offers: its store and job runner (`ragPlugin(...)` of `@fusionkit/rag` fits;
 * its `store` throws until the plugin is set up, so the server reads it on every request).
 */
export interface RagPluginLike {
  readonly store: RagStoreLike;
  readonly jobs?: JobsLike;
}
