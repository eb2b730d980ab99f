import type { DocumentFormat } from '../loaders/loaded-document.js';

/** A document as the collection keeps it (its text lives in its chunks). */
export interface DocumentRecord {
  /** Stable id: a file URL, the URL given, a JSON record id, or the one given with the text. */
  id: string;
  /** For citations. */
  uri?: string;
  title?: string;
  format: DocumentFormat;
  /** Filterable fields: the source's metadata, front matter, a JSON record's other fields. */
  metadata: Record<string, unknown>;
  /** SHA-256 of everything indexed about the document; an ingest of the same version changes nothing. */
  version: string;
  /** Characters of the loaded text. */
  length: number;
  /** Its chunks, in document order. */
  chunkIds: string[];
  /** ISO time of the last change. */
  updatedAt: string;
}

/** A chunk as the collection keeps it. */
export interface ChunkRecord {
  /** SHA-256 of the document id and the chunk text (with `~n` for the n-th repeat of a text in a document). */
  id: string;
  documentId: string;
  text: string;
  /** Character offsets in the loaded document text. */
  start: number;
  end: number;
  /** From the splitter. @example { headings: ['Guide', 'Install'] } */
  metadata: Record<string, unknown>;
}

/** A document to add or replace, already loaded as text. */
export interface DocumentInput {
  id: string;
  text: string;
  uri?: string;
  title?: string;
  /** Decides the splitter ('markdown' and 'html' split at headings). @default 'text' */
  format?: DocumentFormat;
  metadata?: Record<string, unknown>;
  /**
   * For a paged document (PDF): the offset in `text` where each page starts; its chunks get
   * `metadata.page` (1-based, where the chunk starts) and `metadata.pageEnd` when they run onto later pages.
   */
  pageStarts?: number[];
}

/**
 * How a collection cuts documents, recorded in its manifest so every later ingest (and the replay of
 * its log) splits the same way. A splitter given in code (`splitter` of the store) overrides it.
 */
export interface SplitterConfig {
  /**
   * 'auto' splits Markdown and HTML at headings and everything else recursively; 'token' splits
   * recursively with sizes counted by `tokenizer`. @default 'auto'
   */
  kind: 'auto' | 'recursive' | 'markdown' | 'token';
  /** Characters (tokens for 'token'). @default 1000 (256 for 'token') */
  chunkSize: number;
  /** Characters (tokens for 'token'). @default 200 (32 for 'token') */
  chunkOverlap: number;
  /**
   * The tokenizer of kind 'token' (required there): an OpenAI model or encoding name `js-tiktoken` ships.
   * @example 'gpt-4o'
   */
  tokenizer?: string;
}

/** The vector side of a collection. */
export interface VectorConfig {
  /** Embedding model; set at creation or by the first ingest. */
  model?: string;
  /** Set by the first embedding. */
  dimensions?: number;
  /** @default 16 */
  M: number;
  /** @default 200 */
  efConstruction: number;
  /** @default 100 */
  ef: number;
}

/** What a collection is, persisted in its manifest. */
export interface CollectionConfig {
  name: string;
  description?: string;
  createdAt: string;
  splitter: SplitterConfig;
  /** Absent for a lexical-only collection. */
  vector?: VectorConfig;
  bm25: { k1: number; b: number };
  /**
   * The id of the API key that created the collection through the HTTP API, when keys are on: only
   * that key sees it. Absent: shared by every key (collections of `fusion ingest`, or made without keys).
   */
  owner?: string;
}

/** A summary of a collection, cheap to list. */
export interface CollectionInfo {
  name: string;
  description?: string;
  createdAt: string;
  documents: number;
  chunks: number;
  /** Increments with every commit. */
  generation: number;
  committedAt?: string;
  vector?: VectorConfig;
  /** How its documents are split (every ingest uses it). */
  splitter?: SplitterConfig;
  /** The API key that owns it (see {@link CollectionConfig.owner}). */
  owner?: string;
}
