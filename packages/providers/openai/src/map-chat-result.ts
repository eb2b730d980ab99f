import {
  type ChatChoice,
  type ChatRequest,
  type ChatResult,
  type ResultMessage,
  UpstreamError,
} from '@fusionkit/core';
import { inferFinishReason, maxTokensOf, toFinishReason } from './infer-finish-reason.js';
import { isRecord, numberOrUndefined, stringOrUndefined } from './json-guards.js';
import { toToolCalls } from './map-tool-calls.js';
import { toUsage } from './map-usage.js';

/**
 * Reads a `chat.completion` body into a {@link ChatResult}: `null` fields dropped, tool calls in the
 * OpenAI shape, usage normalised, `finish_reason: "length"` inferred from the token limit.
 * `model` is the request's model (servers answer with a local path or their own alias).
 */
export function toChatResult(body: unknown, request: ChatRequest): ChatResult {
  if (!isRecord(body) || !Array.isArray(body.choices)) {
    throw new UpstreamError('The upstream answered with a body that is not a chat completion.');
  }
  const usage = toUsage(body.usage);
  const maxTokens = maxTokensOf(request);
  const choices: ChatChoice[] = body.choices.filter(isRecord).map((choice, position) => ({
    index: numberOrUndefined(choice.index) ?? position,
    message: toResultMessage(choice.message),
    finish_reason: inferFinishReason(toFinishReason(choice.finish_reason), usage, maxTokens),
  }));
  const result: ChatResult = {
    id: stringOrUndefined(body.id) ?? `chatcmpl-${Date.now().toString(36)}`,
    object: 'chat.completion',
    created: numberOrUndefined(body.created) ?? Math.floor(Date.now() / 1000),
    model: request.model,
    choices,
  };
  if (usage) result.usage = usage;
  const fingerprint = stringOrUndefined(body.system_fingerprint);
  if (fingerprint !== undefined) result.system_fingerprint = fingerprint;
  return result;
}

function toResultMessage(value: unknown): ResultMessage {
  const message: ResultMessage = { role: 'assistant', content: null };
  if (!isRecord(value)) return message;
  message.content = contentText(value.content);
  const reasoning = stringOrUndefined(value.reasoning_content) ?? stringOrUndefined(value.reasoning);
  if (reasoning !== undefined) message.reasoning_content = reasoning;
  const toolCalls = toToolCalls(value.tool_calls);
  if (toolCalls) message.tool_calls = toolCalls;
  return message;
}

/** Content is a string; a list of text parts is joined. */
function contentText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return null;
  const texts = value.filter(isRecord).map((part) => stringOrUndefined(part.text) ?? '');
  return texts.join('');
}
