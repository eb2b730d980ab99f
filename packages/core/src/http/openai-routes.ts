import { ModelNotFoundError } from '../errors/model-not-found-error.js';
import type { Fusion } from '../fusion/fusion.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { RouteHandler } from '../spec/plugin/v1/plugin-v1.js';
import { float32Base64 } from '../util/base64.js';
import { parseEmbedRequest } from '../validation/embed-request-schema.js';
import { answerChat, chatCallContext, openChatStream } from './chat-call.js';
import { modelLifecycle } from './model-lifecycle-routes.js';
import { readJsonBody } from './read-json-body.js';
import { jsonResponse } from './responses.js';
import { sseResponse } from './sse-response.js';

/** The OpenAI-compatible routes, as `[method, path, handler]`. */
export function openAIRoutes(fusion: Fusion): [string, string, RouteHandler][] {
  const chatCompletions: RouteHandler = async (request, routeContext) => {
    // `fusion.chat` and `fusion.stream` validate the body; here it is only read.
    const chat = (await readJsonBody(request, fusion.maxBodyBytes)) as ChatRequest;
    const context = chatCallContext(routeContext);
    if (typeof chat !== 'object' || chat === null || chat.stream !== true) {
      const { result, headers } = await answerChat(fusion, chat, context);
      return jsonResponse(result, 200, context.requestId, headers);
    }
    const opened = await openChatStream(fusion, chat, context, request);
    return sseResponse(
      opened.chunks,
      {
        includeUsage: chat.stream_options?.include_usage === true,
        onCancel: opened.cancel,
        onEnd: opened.end,
      },
      opened.headers,
    );
  };

  const embeddings: RouteHandler = async (request, { requestId, signal, apiKey }) => {
    const embed = parseEmbedRequest(await readJsonBody(request, fusion.maxBodyBytes));
    const result = await fusion.embed(embed, { requestId, signal, apiKeyId: apiKey?.id });
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
