import {
  type ChatMessage,
  type ChatRequest,
  InvalidRequestError,
  ModelNotFoundError,
  NotFoundError,
  parseChatRequest,
  type RouteHandler,
  UnsupportedError,
} from '@fusionkit/core';
import { jsonResponse } from '@fusionkit/core/internal';
import { rerankChunks } from '../rerank/rerank-chunks.js';
import type { SearchMode } from '../store/search-collection.js';
import { eventsOf, observedSearch } from './observed-search.js';
import type { RagService } from './rag-service.js';
import {
  type Fields,
  queryFields,
  readArray,
  readBoolean,
  readDiversity,
  readEnum,
  readInteger,
  readJsonObject,
  readObject,
  readString,
  withParam,
} from './request-fields.js';
import { chunkJson, documentJson, documentWithChunksJson } from './wire-format.js';

const MODES: readonly SearchMode[] = ['bm25', 'vector', 'hybrid'];

function readWeights(body: Fields): [number, number] | undefined {
  const weights = readArray(body, 'weights', 2);
  if (!weights) return undefined;
  if (weights.length !== 2 || !weights.every((weight) => typeof weight === 'number' && weight >= 0)) {
    throw new InvalidRequestError("'weights' must be two non-negative numbers: [bm25, vector].", {
      param: 'weights',
    });
  }
  return weights as [number, number];
}

/** Whether a request carries a JSON body (a DELETE may or may not); the body itself is not touched. */
function hasBody(request: Request): boolean {
  const length = request.headers.get('content-length');
  return (
    (length !== null && length !== '0') ||
    request.headers.has('transfer-encoding') ||
    /json/i.test(request.headers.get('content-type') ?? '')
  );
}

/** `rerank`: a chat model's id, or `{ model, candidates }`. */
function readRerank(body: Record<string, unknown>): { model: string; candidates?: number } | undefined {
  const value = body.rerank;
  if (value === undefined || value === null || value === false) return undefined;
  if (typeof value === 'string' && value.length > 0) return { model: value };
  if (
    typeof value === 'object' &&
    !Array.isArray(value) &&
    typeof (value as { model?: unknown }).model === 'string'
  ) {
    const candidates = readInteger(value as Record<string, unknown>, 'candidates', {
      min: 1,
      max: 200,
      param: 'rerank.candidates',
    });
    return { model: (value as { model: string }).model, ...(candidates ? { candidates } : {}) };
  }
  throw new InvalidRequestError("'rerank' must be a chat model id or { model, candidates }.", {
    param: 'rerank',
  });
}

/**
 * `POST /api/rag/search`, `GET` and `DELETE /api/rag/documents`, and `POST /api/rag/answer`.
 */
export function queryRoutes(service: RagService): [string, string, RouteHandler][] {
  const readBody = (request: Request) => readJsonObject(request, service.options.maxBodyBytes);

  const search: RouteHandler = async (request, { requestId, signal, apiKey }) => {
    const body = await readBody(request);
    const collection = await service.open(body.collection, 'collection', apiKey);
    const query = readString(body, 'query', { required: true, max: 20_000 });
    const k = readInteger(body, 'k', { min: 1, max: 1000 }) ?? 5;
    const mode = readEnum(body, 'mode', MODES);
    const filter = readObject(body, 'filter');
    const weights = readWeights(body);
    const candidates = readInteger(body, 'candidates', { min: 1, max: 10_000 });
    const diversity = readDiversity(body, k);
    const rerank = readRerank(body);
    const orchestrator = rerank ? service.options.fusion() : undefined;
    if (rerank && !orchestrator) {
      throw new InvalidRequestError("'rerank' needs the orchestrator: give ragPlugin a 'fusion'.", {
        param: 'rerank',
      });
    }
    // An unknown model is the client's mistake to hear of, not a silent `reranked: false`.
    const registry = (orchestrator as { registry?: { find?: (model: string) => unknown } } | undefined)
      ?.registry;
    if (rerank && typeof registry?.find === 'function' && !registry.find(rerank.model)) {
      throw new ModelNotFoundError(`The rerank model '${rerank.model}' does not exist.`, {
        param: typeof body.rerank === 'string' ? 'rerank' : 'rerank.model',
      });
    }
    let degraded: { mode: 'bm25'; reason: string } | undefined;
    const events = eventsOf(service.options.fusion());
    let chunks = await observedSearch(
      collection,
      {
        query,
        k: rerank ? Math.max(k, rerank.candidates ?? Math.max(3 * k, 20)) : k,
        signal,
        requestId,
        ...(apiKey ? { apiKeyId: apiKey.id } : {}),
        onDegraded: (reason) => {
          degraded = { mode: 'bm25', reason };
          // Observers (logs, metrics) hear of it on the orchestrator's bus when it has one.
          (events as { emit?: (...args: unknown[]) => unknown } | undefined)?.emit?.('strategy:event', {
            requestId,
            strategy: 'rag',
            name: 'retrieval:degraded',
            data: { collection: collection.name, mode: 'bm25', reason },
          });
        },
        ...(mode ? { mode } : {}),
        ...(filter ? { filter } : {}),
        ...(weights ? { weights } : {}),
        ...(candidates ? { candidates } : {}),
        ...diversity,
      },
      events,
      requestId,
    );
    let reranked: boolean | undefined;
    if (rerank && orchestrator) {
      const result = await rerankChunks(query, chunks, {
        model: rerank.model,
        k,
        chat: (chatRequest) => orchestrator.chat(chatRequest, { signal, requestId, apiKeyId: apiKey?.id }),
      });
      chunks = result.chunks;
      reranked = result.reranked;
    }
    return jsonResponse(
      {
        object: 'list',
        collection: collection.name,
        mode: mode ?? collection.defaultSearchMode,
        ...(degraded ? { degraded } : {}),
        ...(reranked === undefined ? {} : { reranked }),
        data: chunks.map((chunk, index) => chunkJson(chunk, index + 1)),
      },
      200,
      requestId,
    );
  };

  const listDocuments: RouteHandler = async (request, { requestId, apiKey }) => {
    const fields = queryFields(request.url);
    const collection = await service.open(fields.collection, 'collection', apiKey);
    const id = readString(fields, 'id', { max: 8192 });
    if (id !== undefined) {
      const document = collection.getDocument(id);
      if (!document) {
        throw new NotFoundError(`No document '${id}' in '${collection.name}'.`, {
          code: 'document_not_found',
          param: 'id',
        });
      }
      return jsonResponse(documentWithChunksJson(document), 200, requestId);
    }
    const offset =
      readInteger(fields, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER, fromText: true }) ?? 0;
    const limit = readInteger(fields, 'limit', { min: 1, max: 1000, fromText: true }) ?? 100;
    const page = collection.listDocuments({ offset, limit });
    return jsonResponse(
      {
        object: 'list',
        collection: collection.name,
        total: page.total,
        offset,
        data: page.documents.map(documentJson),
      },
      200,
      requestId,
    );
  };

  const deleteDocuments: RouteHandler = async (request, { requestId, apiKey }) => {
    const fields = hasBody(request) ? await readBody(request) : queryFields(request.url);
    const collection = await service.open(fields.collection, 'collection', apiKey, 'write');
    const raw = fields.ids ?? fields.id;
    const ids = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
      throw new InvalidRequestError(
        "Name the documents to delete: 'ids' (JSON) or 'id' (query, repeatable).",
        {
          param: 'ids',
        },
      );
    }
    if (ids.length > 10_000)
      throw new InvalidRequestError("'ids' may hold at most 10000 items.", { param: 'ids' });
    const deleted = await collection.deleteDocuments(ids);
    return jsonResponse(
      { object: 'rag.documents.deleted', collection: collection.name, requested: ids.length, deleted },
      200,
      requestId,
    );
  };

  const answer: RouteHandler = async (request, { requestId, signal, apiKey }) => {
    const body = await readBody(request);
    const collection = await service.open(body.collection, 'collection', apiKey);
    if (body.stream === true) {
      throw new InvalidRequestError(
        `/api/rag/answer answers in one piece; stream the model 'rag/${collection.name}' through /v1/chat/completions.`,
        { param: 'stream' },
      );
    }
    // A collection owned by an API key is served as no model: it answers in process (see RagService.sync).
    const inProcess = collection.config.owner !== undefined ? service.options.answerInProcess : undefined;
    const model = inProcess ? `rag/${collection.name}` : service.pipelines.modelOf(collection.name);
    if (!model) {
      throw new UnsupportedError('No generator model is configured: set ragPlugin({ generator }).', {
        param: 'collection',
      });
    }
    const fusion = service.options.fusion();
    if (!fusion) {
      throw new UnsupportedError('Answers need the orchestrator: ragPlugin({ fusion: () => fusion }).');
    }
    const query = readString(body, 'query', { max: 20_000 });
    const messages = body.messages ?? (query ? [{ role: 'user', content: query }] : undefined);
    if (messages === undefined) {
      throw new InvalidRequestError("Give 'query' (a question) or 'messages' (a conversation).", {
        param: 'query',
      });
    }
    const k = readInteger(body, 'k', { min: 1, max: 50 });
    const mode = readEnum(body, 'mode', MODES);
    const filter = readObject(body, 'filter');
    const rewrite = readBoolean(body, 'rewrite');
    const extra: Fields = {};
    for (const name of ['max_tokens', 'temperature', 'top_p', 'seed']) {
      if (body[name] !== undefined) extra[name] = body[name];
    }
    // Checked here: the in-process answer of a key's collection runs no `fusion.chat` that would.
    const chatRequest: ChatRequest = parseChatRequest({
      ...extra,
      model,
      messages: messages as ChatMessage[],
      rag: {
        ...(k ? { k } : {}),
        ...(mode ? { mode } : {}),
        ...(filter ? { filter } : {}),
        ...(rewrite === undefined ? {} : { rewrite }),
        // Checked by the strategy; its 400s name them without the 'rag.' prefix here.
        ...(body.mmr === undefined ? {} : { mmr: body.mmr }),
        ...(body.min_score === undefined ? {} : { min_score: body.min_score }),
      },
    });
    try {
      const callContext = { requestId, signal, apiKeyId: apiKey?.id };
      const result = inProcess
        ? await inProcess(collection, chatRequest, callContext)
        : await fusion.chat(chatRequest, callContext);
      return jsonResponse(
        {
          object: 'rag.answer',
          collection: collection.name,
          model,
          answer: result.choices[0]?.message.content ?? '',
          citations: result.citations ?? [],
          ...(result.degraded ? { degraded: result.degraded } : {}),
          usage: result.usage ?? null,
          trace_id: (result.fusion as { trace_id?: string } | undefined)?.trace_id ?? null,
        },
        200,
        requestId,
      );
    } catch (error) {
      const param = (error as { param?: unknown }).param;
      throw typeof param === 'string' && param.startsWith('rag.') ? withParam(error, param.slice(4)) : error;
    }
  };

  return [
    ['POST', '/api/rag/search', search],
    ['GET', '/api/rag/documents', listDocuments],
    ['DELETE', '/api/rag/documents', deleteDocuments],
    ['POST', '/api/rag/answer', answer],
  ];
}
