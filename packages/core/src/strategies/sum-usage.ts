import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatResult, Usage } from '../spec/chat/chat-result.js';
import type { StrategyContext } from '../spec/strategy/v1/fusion-strategy-v1.js';
import type { TraceCall } from '../spec/strategy/v1/fusion-trace.js';

/** The sum of the calls' usage, or `undefined` when no call reported any. */
export function sumUsage(calls: readonly TraceCall[]): Usage | undefined {
  let sum: Usage | undefined;
  let cached = 0;
  let reasoning = 0;
  for (const call of calls) {
    const usage = call.usage;
    if (!usage) continue;
    sum ??= { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    sum.prompt_tokens += usage.prompt_tokens;
    sum.completion_tokens += usage.completion_tokens;
    sum.total_tokens += usage.total_tokens;
    cached += usage.prompt_tokens_details?.cached_tokens ?? 0;
    reasoning += usage.completion_tokens_details?.reasoning_tokens ?? 0;
  }
  if (sum && cached > 0) sum.prompt_tokens_details = { cached_tokens: cached };
  if (sum && reasoning > 0) sum.completion_tokens_details = { reasoning_tokens: reasoning };
  return sum;
}

/** Sets the trace's usage to the sum of its calls and returns the result carrying that sum. */
export function withFusedUsage(context: StrategyContext<unknown>, result: ChatResult): ChatResult {
  const usage = sumUsage(context.trace.calls);
  context.trace.usage = usage;
  if (!usage) return result;
  return { ...result, usage };
}

/**
 * Passes a stream through, but moves usage to one last chunk carrying the sum over every call of the
 * trace (losers, proposers and judges included). The sum is taken after the source ends, when the
 * call path has recorded the source's own call.
 */
export async function* withFusedStreamUsage(
  context: StrategyContext<unknown>,
  source: AsyncIterable<ChatChunk>,
): AsyncGenerator<ChatChunk, void, undefined> {
  let last: ChatChunk | undefined;
  for await (const chunk of source) {
    last = chunk;
    if (chunk.usage === undefined) {
      yield chunk;
      continue;
    }
    if (chunk.choices.length === 0) continue;
    const { usage: _usage, ...rest } = chunk;
    yield rest as ChatChunk;
  }
  const usage = sumUsage(context.trace.calls);
  context.trace.usage = usage;
  if (usage && last) {
    yield {
      id: last.id,
      object: 'chat.completion.chunk',
      created: last.created,
      model: last.model,
      choices: [],
      usage,
    };
  }
}
