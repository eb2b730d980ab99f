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
  const openai = flavor === 'openai';
  // Copied field by field rather than spread and then `delete`d: deleting turns the object into a
  // slow dictionary, and this body is built and serialised on every call.
  const body: Record<string, unknown> = {};
  for (const key in request) {
    if (DROPPED_FIELDS.has(key)) continue;
    const value = (request as Record<string, unknown>)[key];
    if (value !== undefined) body[key] = value;
  }
  body.stream = stream;
  // OpenAI, vLLM and llama.cpp send a stream's usage only when asked (on a last chunk with no choices);
  // mlx-openai-server sends it on the finish chunk anyway and ignores the field.
  if (stream && flavor !== 'mlx-openai-server') body.stream_options = { include_usage: true };

  const stop = request.stop;
  if (typeof stop === 'string') {
    if (stop !== '') body.stop = [stop];
  } else if (stop != null) body.stop = stop;
  if (request.n != null && request.n !== 1) body.n = request.n;

  const maxTokens = maxTokensOf(request);
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

/** Fields set below from the request, never copied as they are. */
const DROPPED_FIELDS = new Set([
  'stream',
  'stream_options',
  'stop',
  'n',
  'max_tokens',
  'max_completion_tokens',
]);

/** mlx-openai-server rejects the `developer` role with a 422: it means `system` there. */
function withoutDeveloperRole(messages: ChatMessage[]): ChatMessage[] {
  if (!messages.some((message) => message.role === 'developer')) return messages;
  return messages.map((message) => (message.role === 'developer' ? { ...message, role: 'system' } : message));
}
