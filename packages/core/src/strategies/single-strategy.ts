import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { FusionStrategyV1 } from '../spec/strategy/v1/fusion-strategy-v1.js';
import { sumUsage, withFusedUsage } from './sum-usage.js';

/**
 * One call to the first routed target. Streaming: the target's stream passes through untouched; the
 * trace's usage is filled when it ends.
 */
export function singleStrategy(): FusionStrategyV1 {
  return {
    specificationVersion: 'v1',
    name: 'single',
    description: 'One call to the first routed target. Streams pass through.',
    async doChat(context): Promise<ChatResult> {
      const result = await context.call(context.targets[0]!, context.request, { role: 'answer' });
      return withFusedUsage(context, result);
    },
    async *doStream(context): AsyncGenerator<ChatChunk, void, undefined> {
      yield* context.stream(context.targets[0]!, context.request, { role: 'answer' });
      context.trace.usage = sumUsage(context.trace.calls);
    },
  };
}
