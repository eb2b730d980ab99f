import type {
  ChatRequest,
  ChatResult,
  EmbedRequest,
  EmbedResult,
  PluginApi,
  RequestOptions,
  RouteTarget,
} from '@fusionkit/core';
import type { SafeFetchOptions } from '../sources/safe-fetch.js';
import type { RagStoreOptions } from '../store/rag-store.js';
import type { SearchMode } from '../store/search-collection.js';
import type { JobRunner } from './core-jobs.js';
import type { RagAnswerStrategyOptions } from './rag-answer-strategy.js';

/** A pipeline served as a model, as `api.registerPipeline` takes it. */
export type RagPipelineDefinition = Parameters<PluginApi['registerPipeline']>[0];

/** What the plugin uses of the orchestrator: `fusion` itself fits. */
export interface RagFusion {
  embed(request: EmbedRequest, options?: RequestOptions): Promise<EmbedResult>;
  chat(request: ChatRequest, options?: RequestOptions): Promise<ChatResult>;
}

/** Options of {@link ragPlugin}. */
export interface RagPluginOptions {
  /** State directory; collections live in `<dir>/rag/<name>/`. @default '.fusion' */
  dir?: string;
  /** Folders that `paths` in `/api/rag/ingest` may name. Without any, path ingestion is refused. */
  roots?: string[];
  /**
   * The orchestrator: its `embed` embeds chunks and queries, its `chat` serves `/api/rag/answer`. A
   * function defers the lookup, for a plugin given to `createFusion` itself.
   * @example ragPlugin({ fusion: () => fusion, embeddingModel: 'lab/bge-small-en', generator: 'lab/qwen3-4b' })
   */
  fusion?: RagFusion | (() => RagFusion | undefined);
  /** Embeds texts another way than `fusion.embed` (takes precedence). */
  embed?: RagStoreOptions['embed'];
  /**
   * Embedding model of new collections, a model id of the registry. Without one (or without a way to
   * embed), collections are lexical only: BM25 needs no embeddings.
   */
  embeddingModel?: string;
  /**
   * The chat model (or models, tried in order) that writes answers. Each collection is then served as
   * the model `rag/<collection>`; without a generator no `rag/*` model is served.
   * @example 'lab/qwen3-4b'
   */
  generator?: string | RouteTarget | (string | RouteTarget)[];
  /** How answers retrieve and prompt. */
  answer?: {
    /** Chunks per answer. @default 5 */
    k?: number;
    /**
     * Rerank the retrieved chunks with a chat model before answering: `candidates` chunks are
     * retrieved, the model orders them, the best `k` are used. @example { model: 'lab/qwen3-4b', candidates: 20 }
     */
    rerank?: { model: string; candidates?: number };
    /** @default 'hybrid' when the collection has vectors, else 'bm25' */
    mode?: SearchMode;
    /** Instructions before the numbered sources. @default DEFAULT_RAG_SYSTEM_PROMPT */
    systemPrompt?: string;
    /** Characters of sources at most. @default 12_000 */
    maxContextChars?: number;
    /**
     * Multi-turn conversations: one generator call rewrites the last user message as a standalone
     * question from the earlier turns before retrieval (see {@link RagAnswerStrategyOptions.rewrite});
     * a request overrides it with `rag: { rewrite }`. @default false (retrieval uses the last user message)
     */
    rewrite?: RagAnswerStrategyOptions['rewrite'];
  };
  /** Limits of every `rag/*` pipeline (calls, tokens, time, concurrency). */
  limits?: RagPipelineDefinition['limits'];
  /** Fetch URLs from loopback and private networks too. For tests and trusted networks only. @default false */
  allowPrivateNetwork?: boolean;
  /** More of the URL fetch policy: byte cap, timeout, single allowed addresses. */
  fetch?: Omit<SafeFetchOptions, 'signal' | 'allowPrivateNetwork' | 'headers'>;
  /** Largest JSON body of `/api/rag/*`, bytes. @default 4 MiB */
  maxBodyBytes?: number;
  /**
   * Largest multipart upload, bytes. The server adapter caps bodies first, at the orchestrator's
   * `maxBodyBytes` (4 MiB by default): raise that too for larger uploads. @default 32 MiB
   */
  maxUploadBytes?: number;
  /**
   * When an ingest answers 202 with a job instead of waiting: more sources or inline bytes than this,
   * or any folder. A request's `async: true | false` decides for itself.
   * @default { sources: 20, bytes: 1_048_576 }
   */
  asyncThreshold?: { sources?: number; bytes?: number };
  /** Runs ingest jobs; pass one to share it. @default a new JobRunner running one job at a time */
  jobs?: JobRunner;
  /** Serve `GET /api/jobs`, `GET` and `DELETE /api/jobs/:id` for `jobs`; off when something else serves them. @default true */
  jobRoutes?: boolean;
  /**
   * Origins a client's `webhook` URL may point to, e.g. `['https://hooks.example.com']`. Webhooks are
   * refused (400) when empty: a URL chosen by a client would otherwise make the server POST anywhere.
   * @default []
   */
  webhookOrigins?: string[];
  /** Signs webhooks: `x-fusion-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
  webhookSecret?: string;
  /**
   * When collections are loaded: `'startup'` loads every collection in the background as the plugin
   * is set up (`GET /api/rag/status` and `plugin.status()` say when they are ready), `'lazy'` on
   * the first request that needs each. @default 'lazy'
   */
  load?: 'startup' | 'lazy';
  /** More store options: a token splitter, a persistent embedding cache, the embedding batch size. */
  store?: Pick<RagStoreOptions, 'splitter' | 'embeddingCache' | 'embeddingBatchSize'>;
}
