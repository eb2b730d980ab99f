import type { ChatMessage, ChatRequest } from '@fusionkit/core';
import { maxTokensOf } from './infer-finish-reason.js';
import type { OpenAICompatibleFlavor } from './openai-compatible-options.js';

/**
 * The body to POST to `/chat/completions` for a request, with the flavor's quirks applied
 * (see {@link OpenAICompatibleFlavor}). Never changes `request`.
 */
export function toUpstreamChatBody(
  request: ChatRequest,
  flavor: OpenAICompatibleFlavor,
  stream: boolean,
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request, stream };
  const openai = flavor === 'openai';

  delete body.stream_options;
  // OpenAI, vLLM and llama.cpp send a stream's usage only when asked (on a last chunk with no choices);
  // mlx-openai-server sends it on the finish chunk anyway and ignores the field.
  if (stream && flavor !== 'mlx-openai-server') body.stream_options = { include_usage: true };

  if (typeof request.stop === 'string') body.stop = request.stop === '' ? undefined : [request.stop];
  if (request.n === 1) delete body.n;

  const maxTokens = maxTokensOf(request);
  delete body.max_tokens;
  delete body.max_completion_tokens;
  // OpenAI's reasoning models refuse `max_tokens`; local servers only know `max_tokens`.
  if (maxTokens !== undefined) body[openai ? 'max_completion_tokens' : 'max_tokens'] = maxTokens;

  if (!openai) {
    body.messages = withoutDeveloperRole(request.messages);
    // mlx-openai-server defaults `tool_choice` to "none"; OpenAI's default with tools is "auto".
    if (request.tools !== undefined && request.tools.length > 0 && request.tool_choice === undefined) {
      body.tool_choice = 'auto';
    }
  }
  return body;
}

/** mlx-openai-server rejects the `developer` role with a 422: it means `system` there. */
function withoutDeveloperRole(messages: ChatMessage[]): ChatMessage[] {
  if (!messages.some((message) => message.role === 'developer')) return messages;
  return messages.map((message) => (message.role === 'developer' ? { ...message, role: 'system' } : message));
}
