import type { FusionError } from '../../errors/fusion-error.js';
import type { ChatResult, FinishReason, Usage } from '../../spec/chat/chat-result.js';

/** Why an Anthropic message ended. */
export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

/** A content block of an Anthropic answer. */
export type AnthropicContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** Token counts in Anthropic's shape: `input_tokens` excludes the tokens read from a prompt cache. */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number;
}

/** An answer of `POST /v1/messages`. */
export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

/** A new message id, shaped like Anthropic's. */
export function messageId(): string {
  return `msg_${globalThis.crypto.randomUUID().replaceAll('-', '')}`;
}

export function stopReasonOf(reason: FinishReason | null | undefined): AnthropicStopReason | null {
  switch (reason) {
    case 'stop':
      return 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return null;
  }
}

export function usageOf(usage: Usage | undefined): AnthropicUsage {
  const cached = usage?.prompt_tokens_details?.cached_tokens;
  const prompt = usage?.prompt_tokens ?? 0;
  const result: AnthropicUsage = {
    input_tokens: cached ? Math.max(0, prompt - cached) : prompt,
    output_tokens: usage?.completion_tokens ?? 0,
  };
  if (cached) result.cache_read_input_tokens = cached;
  return result;
}

/**
 * The arguments of a tool call as the `input` object of a `tool_use` block. Arguments that are not a
 * JSON object (a model that wrote broken JSON) are kept whole under `_raw`, not dropped.
 */
export function toolInput(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(args);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // kept below
  }
  return { _raw: args };
}

/** A chat answer as an Anthropic message: thinking, text, then tool uses. */
export function toAnthropicMessage(result: ChatResult): AnthropicMessage {
  const choice = result.choices[0];
  const message = choice?.message;
  const content: AnthropicContentBlock[] = [];
  if (message?.reasoning_content)
    content.push({ type: 'thinking', thinking: message.reasoning_content, signature: '' });
  if (message?.content) content.push({ type: 'text', text: message.content });
  for (const call of message?.tool_calls ?? []) {
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: toolInput(call.function.arguments),
    });
  }
  return {
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model: result.model,
    content,
    stop_reason: stopReasonOf(choice?.finish_reason),
    stop_sequence: null,
    usage: usageOf(result.usage),
  };
}

/** Anthropic's error types, by HTTP status. */
function anthropicErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

/** Anthropic's error body: `{ type: 'error', error: { type, message } }`. */
export function anthropicErrorBody(error: FusionError): {
  type: 'error';
  error: { type: string; message: string };
} {
  return { type: 'error', error: { type: anthropicErrorType(error.status), message: error.message } };
}
