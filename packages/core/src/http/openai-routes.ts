import { hasContent } from '../calls/call-model.js';
import { ModelNotFoundError } from '../errors/model-not-found-error.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import type { Fusion } from '../fusion/fusion.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { RouteHandler } from '../spec/plugin/v1/plugin-v1.js';
import type { FusionTrace } from '../spec/strategy/v1/fusion-trace.js';
import { AbortScope } from '../util/abort-scope.js';
import { float32Base64 } from '../util/base64.js';
import { parseEmbedRequest } from '../validation/embed-request-schema.js';
import { modelLifecycle } from './model-lifecycle-routes.js';
import { readJsonBody } from './read-json-body.js';
import { jsonResponse, withErrorHeaders } from './responses.js';
import { sseResponse } from './sse-response.js';

/** The header that names the trace of a fused answer (`GET /api/fusion/traces/{id}`). */
export const TRACE_HEADER = 'x-fusion-trace-id';

/** The OpenAI-compatible routes, as `[method, path, handler]`. */
export function openAIRoutes(fusion: Fusion): [string, string, RouteHandler][] {
  const chatCompletions: RouteHandler = async (request, { requestId, signal }) => {
    // `fusion.chat` and `fusion.stream` validate the body; here it is only read.
    const chat = (await readJsonBody(request, fusion.maxBodyBytes)) as ChatRequest;
    // A pipeline names its trace before answering: the id goes out as a header.
    let traceId: string | undefined;
    const onTrace = (trace: FusionTrace) => {
      traceId = trace.id;
    };
    // A fused request that failed keeps its trace: the header says where to read what went wrong.
    const traced = (error: unknown) =>
      traceId ? withErrorHeaders(error, { [TRACE_HEADER]: traceId }) : error;
    if (typeof chat !== 'object' || chat === null || chat.stream !== true) {
      let result: ChatResult;
      try {
        result = await fusion.chat(chat, { requestId, signal, onTrace });
      } catch (error) {
        throw traced(error);
      }
      return jsonResponse(result, 200, requestId, traceId ? { [TRACE_HEADER]: traceId } : undefined);
    }
    const events = fusion.events;
    // A client that cancels the body must stop the upstream at once, also while a chunk is pending
    // (an async generator's `return()` would wait for that chunk first).
    const scope = new AbortScope(signal);
    // undici's Request follows its init signal through a WeakRef to its own controller: were the
    // Request collected mid-stream, the client's abort would be lost. Hold it until the stream ends.
    const held: { request?: Request } = { request };
    const iterator = fusion
      .stream(chat, { requestId, signal: scope.signal, onTrace })
      [Symbol.asyncIterator]();
    // The stream commits at its first content chunk: errors before it get a proper HTTP status.
    const buffered: ChatChunk[] = [];
    let next: IteratorResult<ChatChunk>;
    try {
      next = await iterator.next();
      while (!next.done && !hasContent(next.value)) {
        buffered.push(next.value);
        next = await iterator.next();
      }
    } catch (error) {
      scope.dispose();
      throw traced(error);
    }
    const model = next.done ? chat.model : next.value.model;
    events.emit('stream:start', { requestId, model });
    const replay = replayThen(buffered, next, iterator);
    const headers: Record<string, string> = { 'x-request-id': requestId };
    if (traceId) headers[TRACE_HEADER] = traceId;
    return sseResponse(
      replay,
      {
        includeUsage: chat.stream_options?.include_usage === true,
        onCancel: () => scope.abort(new DOMException('The client closed the stream.', 'AbortError')),
        onEnd: ({ error, usage }) => {
          scope.dispose();
          held.request = undefined;
          if (error === undefined)
            events.emit('stream:end', usage ? { requestId, model, usage } : { requestId, model });
          else events.emit('stream:error', { requestId, model, error: toFusionError(error) });
        },
      },
      headers,
    );
  };

  const embeddings: RouteHandler = async (request, { requestId, signal }) => {
    const embed = parseEmbedRequest(await readJsonBody(request, fusion.maxBodyBytes));
    const result = await fusion.embed(embed, { requestId, signal });
    if (embed.encoding_format === 'base64') {
      const data = result.data.map((item) => ({ ...item, embedding: float32Base64(item.embedding) }));
      return jsonResponse({ ...result, data }, 200, requestId);
    }
    return jsonResponse(result, 200, requestId);
  };

  const listModels: RouteHandler = async (_request, { requestId }) =>
    jsonResponse({ object: 'list', data: await fusion.models() }, 200, requestId);

  const getModel: RouteHandler = async (_request, { requestId, params }) => {
    const id = params.id ?? '';
    const models = await fusion.models();
    const model =
      models.find((entry) => entry.id === id) ??
      models.find((entry) => entry.id === fusion.registry.find(id)?.id);
    if (!model) throw new ModelNotFoundError(`The model '${id}' does not exist.`);
    // A registered model shows its memory: loaded, bytes, last use, the budget (pipelines have none).
    const registered = fusion.registry.find(model.id);
    return jsonResponse(
      registered ? { ...model, ...modelLifecycle(fusion, registered) } : model,
      200,
      requestId,
    );
  };

  const health: RouteHandler = (_request, { requestId }) => {
    const report = fusion.health();
    return jsonResponse(report, report.status === 'ok' ? 200 : 503, requestId, {
      'cache-control': 'no-store',
    });
  };

  // Readiness for a load balancer or a Kubernetes readinessProbe: 503 until models are up and every
  // plugin check (RAG collections loading at startup) is ready; `/health` stays the liveness view.
  const ready: RouteHandler = (_request, { requestId }) => {
    const report = fusion.health();
    return jsonResponse(report, report.ready ? 200 : 503, requestId, { 'cache-control': 'no-store' });
  };

  const queueStats: RouteHandler = (_request, { requestId }) => {
    const stats = fusion.queueStats();
    // Shaped like mlx-openai-server's, so another orchestrator can route on it.
    const body = {
      status: 'ok',
      queue_stats: {
        queue_stats: {
          running: stats.running,
          queue_size: stats.waiting,
          max_queue_size: stats.maxWaiting,
          active_requests: stats.running,
          max_concurrency: stats.concurrency,
        },
        models: stats.models,
      },
    };
    return jsonResponse(body, 200, requestId, { 'cache-control': 'no-store' });
  };

  return [
    ['POST', '/v1/chat/completions', chatCompletions],
    ['POST', '/v1/embeddings', embeddings],
    ['GET', '/v1/models', listModels],
    ['GET', '/v1/models/*id', getModel],
    ['GET', '/health', health],
    ['GET', '/health/ready', ready],
    ['GET', '/v1/queue/stats', queueStats],
  ];
}

/** Yields the chunks read ahead, then the current result, then the rest of the iterator. */
export function replayThen(
  buffered: ChatChunk[],
  current: IteratorResult<ChatChunk>,
  rest: AsyncIterator<ChatChunk>,
): AsyncIterator<ChatChunk> {
  let index = 0;
  let currentSent = false;
  return {
    // Not `async`: the rest's own promise is passed on, without one more to settle per chunk.
    next: () => {
      if (index < buffered.length) return Promise.resolve({ done: false, value: buffered[index++]! });
      if (!currentSent) {
        currentSent = true;
        return Promise.resolve(current);
      }
      return rest.next();
    },
    return: async () => {
      await rest.return?.();
      return { done: true, value: undefined };
    },
  };
}
