/**
 * `@fusionkit/rag`: retrieval over your documents for the Fusion Orchestrator. Loaders (text,
 * Markdown, HTML, PDF, JSON), safe sources (files confined to roots, URLs that cannot reach private
 * networks), splitters, a Lucene-like BM25 index, an hnswlib-node vector index, reciprocal rank
 * fusion, Mongo-style metadata filters, persistent collections exposed as a `RetrieverV1`, and
 * `ragPlugin`: the `/api/rag/*` API and `rag/<collection>` models that answer with citations.
 *
 * @example
 * import { createCollectionRetriever, RagStore } from '@fusionkit/rag';
 *
 * const rag = new RagStore({ dir: '.fusion', sources: { roots: ['./docs'] } });
 * const docs = await rag.createCollection('docs', { vector: false });
 * await docs.ingest([{ type: 'folder', path: '.' }]);
 * const hits = await docs.search({ query: 'how do I install it?', k: 5 });
 * const retriever = createCollectionRetriever({ collection: docs });
 * @module
 */
export {
  type CachedEmbedderOptions,
  createCachedEmbedder,
  type EmbedderStats,
} from './embedding/cached-embedder.js';
export type { EmbedCallOptions, Embedder, EmbedFunction } from './embedding/embedder.js';
export { compileFilter, type MetadataPredicate } from './filters/compile-filter.js';
export { Bm25Index } from './lexical/bm25-index.js';
export type { Bm25Options, Bm25SearchOptions, ScoredId } from './lexical/bm25-options.js';
export { type Bm25Snapshot, decodeBm25Snapshot, encodeBm25Snapshot } from './lexical/bm25-snapshot.js';
export {
  type Analyzer,
  createEnglishAnalyzer,
  ENGLISH_ANALYZER_ID,
  type EnglishAnalyzerOptions,
  LUCENE_ENGLISH_STOP_WORDS,
} from './lexical/english-analyzer.js';
export { htmlToText } from './loaders/html-loader.js';
export { detectFormat, loadDocuments, SUPPORTED_EXTENSIONS } from './loaders/load-document.js';
export type {
  DocumentFormat,
  JsonLoaderOptions,
  LoadedDocument,
  LoadOptions,
} from './loaders/loaded-document.js';
export {
  type AnswerContextOptions,
  buildAnswerRequest,
  type Citation,
  DEFAULT_RAG_SYSTEM_PROMPT,
} from './plugin/answer-context.js';
export {
  type RagAnswerOptions,
  type RagAnswerStrategyOptions,
  ragAnswerStrategy,
} from './plugin/rag-answer-strategy.js';
export { type RagLoadStatus, type RagPlugin, ragPlugin } from './plugin/rag-plugin.js';
export type { RagFusion, RagPluginOptions } from './plugin/rag-plugin-options.js';
export {
  DEFAULT_REWRITE_PROMPT,
  type StandaloneQuestionOptions,
} from './plugin/standalone-question.js';
export {
  type CollectionRetrieverOptions,
  createCollectionRetriever,
} from './retriever/collection-retriever.js';
export { type RefusalReason, refusalReason } from './sources/address-policy.js';
export { confinePath } from './sources/confine-path.js';
export type {
  BytesSource,
  FileSource,
  FolderSource,
  IngestSource,
  SourceDocument,
  SourceOptions,
  TextSource,
  UrlSource,
} from './sources/ingest-source.js';
export { countSources, readSources, type SkippedSource } from './sources/read-sources.js';
export {
  checkUrl,
  type FetchedResource,
  type ResolveHost,
  type SafeFetchOptions,
  safeFetch,
} from './sources/safe-fetch.js';
export { MarkdownSplitter, type MarkdownSplitterOptions } from './splitters/markdown-splitter.js';
export {
  countTokensWith,
  type LoadedTokenizer,
  loadTokenizer,
  resolveTokenizer,
} from './splitters/named-tokenizer.js';
export {
  DEFAULT_SEPARATORS,
  RecursiveCharacterSplitter,
  type RecursiveCharacterSplitterOptions,
} from './splitters/recursive-character-splitter.js';
export type { SplitterSizeOptions, TextChunk, TextSplitter } from './splitters/text-splitter.js';
export { TokenSplitter, type TokenSplitterOptions } from './splitters/token-splitter.js';
export { Collection } from './store/collection.js';
export type {
  CollectionOptions,
  IngestOptions,
  IngestProgress,
  IngestReport,
} from './store/collection-options.js';
export type { CommitStep } from './store/collection-storage.js';
export { type CreateCollectionOptions, RagStore, type RagStoreOptions } from './store/rag-store.js';
export type {
  ChunkRecord,
  CollectionConfig,
  CollectionInfo,
  DocumentInput,
  DocumentRecord,
  SplitterConfig,
  VectorConfig,
} from './store/records.js';
export type { SearchMode, SearchRequest } from './store/search-collection.js';
export { HnswIndex, type HnswIndexOptions, type VectorSearchOptions } from './vector/hnsw-index.js';
