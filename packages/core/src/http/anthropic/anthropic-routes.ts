import { estimatePromptTokens } from '../../calls/estimate-usage.js';
import type { Fusion } from '../../fusion/fusion.js';
import type { RouteHandler, RouteOptions } from '../../spec/plugin/v1/plugin-v1.js';
import { answerChat, chatCallContext, openChatStream } from '../chat-call.js';
import { EventStreamResponse } from '../event-stream-response.js';
import { readJsonBody } from '../read-json-body.js';
import { jsonResponse } from '../responses.js';
import type { RouteEntry } from '../route-table.js';
import { SSE_HEADERS } from '../sse-response.js';
import { AnthropicEventSource } from './anthropic-event-source.js';
import { anthropicErrorBody, toAnthropicMessage } from './to-anthropic-message.js';
import { toChatRequest, toCountTokensRequest } from './to-chat-request.js';

/** 404 (or 503 while its provider lists none) unless `name` is a model or pipeline served now. */
async function requireServed(fusion: Fusion, name: string): Promise<void> {
  await fusion.ready;
  if (fusion.pipelines.has(name) || fusion.pipelines.has(fusion.registry.aliasTarget(name) ?? '')) return;
  fusion.registry.resolve(name);
}

/** Every error on these paths, also those raised before the handler, in Anthropic's shape. */
const ANTHROPIC_ROUTE: RouteOptions = { formatError: anthropicErrorBody };

/**
 * The Anthropic Messages API (`POST /v1/messages`, `POST /v1/messages/count_tokens`) for every model
 * and pipeline: requests are translated into chat requests, answers and streams back into Anthropic's
 * shapes, so Claude-style clients get fusion, fallback and routing like any OpenAI client.
 */
export function anthropicRoutes(fusion: Fusion): RouteEntry[] {
  const messages: RouteHandler = async (request, routeContext) => {
    const context = chatCallContext(routeContext);
    const { requestId } = context;
    const chat = toChatRequest(await readJsonBody(request, fusion.maxBodyBytes));
    if (chat.stream !== true) {
      const { result, headers } = await answerChat(fusion, chat, context);
      return jsonResponse(toAnthropicMessage(result), 200, requestId, headers);
    }
    const opened = await openChatStream(fusion, chat, context, request);
    const source = new AnthropicEventSource(opened.chunks, {
      model: opened.model,
      estimatedInputTokens: estimatePromptTokens(chat),
      onCancel: opened.cancel,
      onEnd: opened.end,
    });
    return new EventStreamResponse(source, { status: 200, headers: { ...SSE_HEADERS, ...opened.headers } });
  };

  const countTokens: RouteHandler = async (request, { requestId }) => {
    const chat = toCountTokensRequest(await readJsonBody(request, fusion.maxBodyBytes));
    await requireServed(fusion, chat.model);
    return jsonResponse({ input_tokens: estimatePromptTokens(chat) }, 200, requestId);
  };

  return [
    ['POST', '/v1/messages', messages, ANTHROPIC_ROUTE],
    ['POST', '/v1/messages/count_tokens', countTokens, ANTHROPIC_ROUTE],
  ];
}
