import type { Fusion } from '../../fusion/fusion.js';
import type { RouteHandler } from '../../spec/plugin/v1/plugin-v1.js';
import { answerChat, chatCallContext, openChatStream } from '../chat-call.js';
import { EventStreamResponse } from '../event-stream-response.js';
import { readJsonBody } from '../read-json-body.js';
import { jsonResponse } from '../responses.js';
import type { RouteEntry } from '../route-table.js';
import { SSE_HEADERS } from '../sse-response.js';
import { CompletionEventSource } from './completion-event-source.js';
import { toCompletionCall, toTextCompletion } from './to-completion.js';

/**
 * `POST /v1/completions`, OpenAI's legacy text completions, for every model and pipeline: the prompt
 * is asked as one user message, the answer comes back as a `text_completion` (or its stream).
 */
export function completionsRoutes(fusion: Fusion): RouteEntry[] {
  const completions: RouteHandler = async (request, routeContext) => {
    const context = chatCallContext(routeContext);
    const { requestId } = context;
    const call = toCompletionCall(await readJsonBody(request, fusion.maxBodyBytes));
    if (!call.stream) {
      const { result, headers } = await answerChat(fusion, call.chat, context);
      return jsonResponse(toTextCompletion(result, call), 200, requestId, headers);
    }
    const opened = await openChatStream(fusion, call.chat, context, request);
    const source = new CompletionEventSource(opened.chunks, {
      model: opened.model,
      includeUsage: call.includeUsage,
      onCancel: opened.cancel,
      onEnd: opened.end,
      ...(call.echo ? { echo: call.prompt } : {}),
    });
    return new EventStreamResponse(source, { status: 200, headers: { ...SSE_HEADERS, ...opened.headers } });
  };

  return [['POST', '/v1/completions', completions]];
}
