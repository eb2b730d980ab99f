import type { ChatRequest, FinishReason, Usage } from '@fusionkit/core';

/**
 * mlx-openai-server only ever says `stop` or `tool_calls`. When it says `stop` but produced as
 * many tokens as the request allowed, generation was cut by the limit: the answer is `length`.
 */
export function inferFinishReason(
  reason: FinishReason | null,
  usage: Usage | null | undefined,
  maxTokens: number | undefined,
): FinishReason | null {
  if (reason !== 'stop' || maxTokens === undefined || !usage) return reason;
  return usage.completion_tokens >= maxTokens ? 'length' : reason;
}

/** The completion token limit of a request, whichever field carries it. */
export function maxTokensOf(request: ChatRequest): number | undefined {
  const limit = request.max_tokens ?? request.max_completion_tokens;
  return typeof limit === 'number' && limit > 0 ? limit : undefined;
}

/** Reads an upstream `finish_reason`: `function_call` becomes `tool_calls`, unknown values `stop`. */
export function toFinishReason(value: unknown): FinishReason | null {
  switch (value) {
    case 'stop':
    case 'length':
    case 'tool_calls':
    case 'content_filter':
      return value;
    case 'function_call':
      return 'tool_calls';
    case null:
    case undefined:
      return null;
    default:
      return 'stop';
  }
}
