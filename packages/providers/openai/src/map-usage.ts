import type { Usage } from '@fusionkit/core';
import { isRecord, numberOrUndefined } from './json-guards.js';

/**
 * Reads an upstream `usage` object. Missing counts become 0 (mlx-openai-server-lab may send
 * `completion_tokens: null`); `null` detail objects are dropped. `undefined` when there is no usage.
 */
export function toUsage(value: unknown): Usage | undefined {
  if (!isRecord(value)) return undefined;
  const promptTokens = numberOrUndefined(value.prompt_tokens) ?? 0;
  const completionTokens = numberOrUndefined(value.completion_tokens) ?? 0;
  const usage: Usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: numberOrUndefined(value.total_tokens) ?? promptTokens + completionTokens,
  };
  const cachedTokens = isRecord(value.prompt_tokens_details)
    ? numberOrUndefined(value.prompt_tokens_details.cached_tokens)
    : undefined;
  if (cachedTokens !== undefined) usage.prompt_tokens_details = { cached_tokens: cachedTokens };
  const reasoningTokens = isRecord(value.completion_tokens_details)
    ? numberOrUndefined(value.completion_tokens_details.reasoning_tokens)
    : undefined;
  if (reasoningTokens !== undefined) usage.completion_tokens_details = { reasoning_tokens: reasoningTokens };
  return usage;
}
