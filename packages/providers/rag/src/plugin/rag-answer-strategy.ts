import {
  type ChatChunk,
  type ChatResult,
  type FusionStrategyV1,
  InvalidRequestError,
  type MetadataFilter,
  type StrategyContext,
} from '@fusionkit/core';
import { hasContent } from '@fusionkit/core/internal';
import { rerankChunks } from '../rerank/rerank-chunks.js';
import type { Collection } from '../store/collection.js';
import type { SearchMode } from '../store/search-collection.js';
import {
  type AnswerContextOptions,
  buildAnswerRequest,
  type Citation,
  lastUserText,
  markCited,
} from './answer-context.js';
import { observedSearch, type RetrievalEvents } from './observed-search.js';
import {
  type Fields,
  isPlainObject,
  readBoolean,
  readDiversity,
  readEnum,
  readInteger,
  readObject,
  withParam,
} from './request-fields.js';
import {
  isMultiTurn,
  type StandaloneQuestionOptions,
  standaloneQuestionOf,
  standaloneQuestionRequest,
} from './standalone-question.js';

/** The options of a `rag/<collection>` pipeline (its `options`; a type so it fits `Record<string, unknown>`). */
export type RagAnswerOptions = {
  /** The collection answers come from. */
  collection: string;
  /** Chunks retrieved per answer. @default the strategy's `k` (5) */
  k?: number;
  /** @default 'hybrid' when the collection has vectors and an embedder, else 'bm25' */
  mode?: SearchMode;
  /** Applied to every retrieval of the pipeline. */
  filter?: MetadataFilter;
  /** Rewrite follow-ups into standalone questions before retrieval. @default the strategy's `rewrite` */
  rewrite?: boolean;
};

/** Options of {@link ragAnswerStrategy}. */
export interface RagAnswerStrategyOptions extends AnswerContextOptions {
  /** The orchestrator's event bus, to report each retrieval on (`retrieval:start`/`end`/`error`). */
  events?: () => RetrievalEvents | undefined;
  /** Opens a collection by name (the plugin passes its store's `getCollection`). */
  collection(name: string): Promise<Collection>;
  /** Chunks retrieved per answer, unless the pipeline or the request says otherwise. @default 5 */
  k?: number;
  /** Reorder `candidates` retrieved chunks with this chat model, keeping the best `k`. */
  rerank?: { model: string; candidates?: number };
  /**
   * Multi-turn conversations: before retrieval, one call to the generator (the first target, or
   * `model`) rewrites the last user message as a standalone question from the earlier turns, and that
   * is what is searched ("and the second one?" → "What does the second installation step do?"). The
   * generator still answers the whole conversation. A single-turn request is searched as it is; a
   * failed rewrite falls back to the last user message. A request turns it on or off with
   * `rag: { rewrite }`. Off by default: retrieval uses the last user message only.
   * @default false
   */
  rewrite?: boolean | (StandaloneQuestionOptions & { model?: string });
}

const MODES = ['bm25', 'vector', 'hybrid'] as const;

/**
 * What one request asks of retrieval: the pipeline's options, overridden by the request's extra
 * `rag` field (`{ k, mode, filter }`; a request filter is and-ed with the pipeline's).
 */
function retrievalOf(context: StrategyContext<RagAnswerOptions>, defaultK: number) {
  const { options, request } = context;
  let k = options.k ?? defaultK;
  let mode = options.mode;
  let filter = options.filter;
  let rewrite = options.rewrite;
  let diversity: ReturnType<typeof readDiversity> = {};
  let fromRequest = false;
  if (request.rag !== undefined) {
    if (!isPlainObject(request.rag)) {
      throw new InvalidRequestError(
        "'rag' must be an object: { k, mode, filter, rewrite, mmr, min_score }.",
        {
          param: 'rag',
        },
      );
    }
    const fields = request.rag as Fields;
    k = readInteger(fields, 'k', { min: 1, max: 50, param: 'rag.k' }) ?? k;
    mode = readEnum(fields, 'mode', MODES, 'rag.mode') ?? mode;
    rewrite = readBoolean(fields, 'rewrite', 'rag.rewrite') ?? rewrite;
    diversity = readDiversity(fields, k, 'rag.');
    const requested = readObject(fields, 'filter', 'rag.filter');
    if (requested) {
      filter = filter ? { $and: [filter, requested] } : requested;
      fromRequest = true;
    }
  }
  return { k, mode, filter, fromRequest, rewrite, diversity };
}

/**
 * The question to search for: the last user message, or with `rewrite` on and earlier turns to
 * resolve, the standalone question one generator call makes of the conversation.
 */
async function searchQuery(
  context: StrategyContext<RagAnswerOptions>,
  options: RagAnswerStrategyOptions,
  lastUser: string,
  rewrite: boolean,
): Promise<{ query: string; rewrite?: Record<string, unknown> }> {
  if (!rewrite || !isMultiTurn(context.request)) return { query: lastUser };
  const settings = typeof options.rewrite === 'object' ? options.rewrite : {};
  const target = settings.model ? { model: settings.model } : context.targets[0];
  if (!target) return { query: lastUser };
  const startedAt = performance.now();
  try {
    const result = await context.call(target, standaloneQuestionRequest(context.request, settings), {
      role: 'rewriter',
    });
    const question = standaloneQuestionOf(result);
    const ms = Math.round((performance.now() - startedAt) * 100) / 100;
    if (!question) return { query: lastUser, rewrite: { fallback: 'empty rewrite', rewrite_ms: ms } };
    return { query: question, rewrite: { original_query: lastUser.slice(0, 500), rewrite_ms: ms } };
  } catch (error) {
    if (context.callOptions.signal.aborted) throw error;
    // Retrieval for the last message beats no answer: the generator may still manage.
    return {
      query: lastUser,
      rewrite: { fallback: String((error as Error)?.message ?? error).slice(0, 200) },
    };
  }
}

/** Retrieves for the last user message and builds the generator's request with numbered sources. */
async function prepare(
  context: StrategyContext<RagAnswerOptions>,
  options: RagAnswerStrategyOptions,
): Promise<{ request: StrategyContext['request']; citations: Citation[]; degraded?: Degraded }> {
  const name = context.options.collection;
  const lastUser = lastUserText(context.request);
  if (!lastUser) {
    throw new InvalidRequestError('A RAG model needs a user message with text to search for.', {
      param: 'messages',
    });
  }
  const { k, mode, filter, fromRequest, rewrite, diversity } = retrievalOf(context, options.k ?? 5);
  const { query, rewrite: rewriteTrace } = await searchQuery(
    context,
    options,
    lastUser,
    Boolean(rewrite ?? options.rewrite),
  );
  const collection = await options.collection(name);
  const startedAt = performance.now();
  let chunks: Awaited<ReturnType<Collection['search']>>;
  let degraded: Degraded | undefined;
  try {
    chunks = await observedSearch(
      collection,
      {
        query,
        onDegraded: (reason) => {
          degraded = { mode: 'bm25', reason };
          context.emit?.({
            type: 'custom',
            name: 'retrieval:degraded',
            data: { collection: name, mode: 'bm25', reason },
          });
        },
        k: options.rerank ? Math.max(k, options.rerank.candidates ?? Math.max(3 * k, 20)) : k,
        signal: context.callOptions.signal,
        requestId: context.callOptions.requestId,
        ...(context.callOptions.apiKeyId === undefined ? {} : { apiKeyId: context.callOptions.apiKeyId }),
        ...(mode ? { mode } : {}),
        ...(filter ? { filter } : {}),
        ...diversity,
      },
      options.events?.(),
      context.callOptions.requestId,
    );
  } catch (error) {
    const param = (error as { param?: unknown }).param;
    throw fromRequest && param === 'filter' ? withParam(error, 'rag.filter') : error;
  }
  let reranked: boolean | undefined;
  if (options.rerank) {
    const judge = { model: options.rerank.model };
    const result = await rerankChunks(query, chunks, {
      model: judge.model,
      k,
      chat: (request) => context.call(judge, request, { role: 'reranker' }),
    });
    chunks = result.chunks;
    reranked = result.reranked;
  }
  context.trace.decision = {
    collection: name,
    query: query.slice(0, 500),
    ...(rewriteTrace ?? {}),
    mode: mode ?? collection.defaultSearchMode,
    k,
    retrieved: chunks.map((chunk) => chunk.id),
    ...(reranked === undefined ? {} : { reranked }),
    ...(degraded ? { degraded } : {}),
    retrieve_ms: Math.round((performance.now() - startedAt) * 100) / 100,
  };
  return { ...buildAnswerRequest(context.request, chunks, options), ...(degraded ? { degraded } : {}) };
}

/** A retrieval that answered from BM25 alone because the embedding model was down, as search reports it. */
export interface Degraded {
  mode: 'bm25';
  reason: string;
}

function isAbort(context: StrategyContext<RagAnswerOptions>): boolean {
  return context.callOptions.signal.aborted;
}

/**
 * Answers from a collection with cited sources: retrieves for the last user message (hybrid by
 * default), puts the chunks before the conversation as numbered sources, asks the routed generator
 * to cite them as `[n]`, and returns its answer with a `citations` array (on the result; on the first
 * chunk of a stream). Several targets are tried in order until one answers (a stream switches only
 * before its first content, as the orchestrator's streams commit there).
 *
 * @example fusion.registerPipeline({ name: 'rag/docs', strategy: ragAnswerStrategy({ collection: (name) => rag.getCollection(name) }), options: { collection: 'docs' }, targets: ['lab/qwen3-4b'] })
 */
export function ragAnswerStrategy(options: RagAnswerStrategyOptions): FusionStrategyV1<RagAnswerOptions> {
  return {
    specificationVersion: 'v1',
    name: 'rag-answer',
    description:
      'Retrieves from a collection, answers with the first target that succeeds, cites sources as [n]; streams pass through with citations on the first chunk.',
    async doChat(context): Promise<ChatResult> {
      const { request, citations, degraded } = await prepare(context, options);
      let failure: unknown;
      for (const target of context.targets) {
        try {
          const result = await context.call(target, request, { role: 'generator' });
          const answer = result.choices[0]?.message.content ?? '';
          return { ...result, citations: markCited(citations, answer), ...(degraded ? { degraded } : {}) };
        } catch (error) {
          if (isAbort(context)) throw error;
          failure = error;
        }
      }
      throw failure;
    },
    async *doStream(context): AsyncGenerator<ChatChunk, void, undefined> {
      const { request, citations, degraded } = await prepare(context, options);
      const extra = { citations, ...(degraded ? { degraded } : {}) };
      let failure: unknown;
      for (const target of context.targets) {
        // Chunks before the first content (the role) wait: until then another target may take over.
        let pending: ChatChunk[] | undefined = [];
        const flush = function* () {
          const chunks = pending ?? [];
          pending = undefined;
          let first = true;
          for (const chunk of chunks) {
            yield first && chunk.choices.length > 0 ? { ...chunk, ...extra } : chunk;
            if (chunk.choices.length > 0) first = false;
          }
        };
        try {
          for await (const chunk of context.stream(target, request, { role: 'generator' })) {
            if (pending) {
              pending.push(chunk);
              if (hasContent(chunk)) yield* flush();
            } else {
              yield chunk;
            }
          }
          yield* flush();
          return;
        } catch (error) {
          if (!pending || isAbort(context)) throw error;
          failure = error;
        }
      }
      throw failure;
    },
  };
}
