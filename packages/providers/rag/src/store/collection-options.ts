import type { Embedder } from '../embedding/embedder.js';
import type { DocumentFormat } from '../loaders/loaded-document.js';
import type { SourceOptions } from '../sources/ingest-source.js';
import type { SkippedSource } from '../sources/read-sources.js';
import type { TextSplitter } from '../splitters/text-splitter.js';
import type { CommitStep } from './collection-storage.js';
import type { WriterLockOptions } from './writer-lock.js';

export interface CollectionOptions {
  /** Embeds chunks and queries; required for vector and hybrid search and for ingesting into a vector collection. */
  embedder?: Embedder;
  /**
   * Overrides the configured splitter, e.g. a {@link TokenSplitter}; a function may choose by document
   * format and return `undefined` to keep the configured one.
   */
  splitter?: TextSplitter | ((format: DocumentFormat) => TextSplitter | undefined);
  /** Roots for file sources and the URL fetch policy. */
  sources?: SourceOptions;
  /** HNSW `ef` for searches in this process. @default the collection's */
  ef?: number;
  /** Runs before each step of every commit. Throwing there simulates a crash at that point (for tests). */
  onCommitStep?: (step: CommitStep) => void | Promise<void>;
  /**
   * Writes of several processes to one collection take turns through a lock file in its directory:
   * how long a write waits for another process's, and when a dead holder's lock is taken over.
   */
  writerLock?: WriterLockOptions;
}

export interface IngestOptions {
  signal?: AbortSignal;
  /** The request ingesting, sent with its embedding calls. */
  requestId?: string;
  /** The API key ingesting: the embedding of new chunks is charged to it. */
  apiKeyId?: string;
  /** Called after each batch of documents. */
  onProgress?: (progress: IngestProgress) => void;
  /** Documents between commits: a crash loses at most this many (re-running the ingest redoes them). @default 1000 */
  commitEvery?: number;
}

/** Counters of a running or finished ingest. */
export interface IngestProgress {
  /** Sources read so far: texts, uploads, files, URLs (a JSON file may hold many documents). */
  sources: number;
  /** Documents read so far. */
  documents: number;
  added: number;
  updated: number;
  unchanged: number;
  chunksAdded: number;
  chunksRemoved: number;
}

export interface IngestReport extends IngestProgress {
  /** Ids of the documents read, in order. */
  documentIds: string[];
  /** Folder entries that could not be read, and why. */
  skipped: SkippedSource[];
  /** Generation after the last commit. */
  generation: number;
}
