import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import { collect, fakeContext } from './__fixtures__/fake-context.js';
import { sumUsage, withFusedStreamUsage } from './sum-usage.js';

const usage = (prompt: number, completion: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

describe('sumUsage', () => {
  it('adds every call that reported usage, details included', () => {
    expect(sumUsage([])).toBeUndefined();
    expect(
      sumUsage([
        {
          target: 'a',
          startedAt: 0,
          retries: 0,
          outcome: 'ok',
          usage: { ...usage(10, 5), prompt_tokens_details: { cached_tokens: 4 } },
        },
        { target: 'b', startedAt: 0, retries: 0, outcome: 'aborted' },
        {
          target: 'c',
          startedAt: 0,
          retries: 0,
          outcome: 'ok',
          usage: { ...usage(1, 2), completion_tokens_details: { reasoning_tokens: 2 } },
        },
      ]),
    ).toEqual({
      ...usage(11, 7),
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 2 },
    });
  });

  it('moves streamed usage to one last chunk with the sum over the trace', async () => {
    const { context } = fakeContext({ targets: { 'lab/a': {} } });
    context.trace.calls.push({
      target: 'judge',
      startedAt: 0,
      retries: 0,
      outcome: 'ok',
      usage: usage(100, 1),
    });
    async function* source(): AsyncGenerator<ChatChunk> {
      yield {
        id: 'x',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: 'stop' }],
        usage: usage(3, 1),
      };
      context.trace.calls.push({
        target: 'lab/a',
        startedAt: 0,
        retries: 0,
        outcome: 'ok',
        usage: usage(3, 1),
      });
    }
    const { chunks } = await collect(withFusedStreamUsage(context, source()));
    expect(chunks).toHaveLength(2);
    expect(chunks[0]!.usage).toBeUndefined();
    expect(chunks[1]).toMatchObject({ id: 'x', choices: [], usage: usage(103, 2) });
    expect(context.trace.usage).toEqual(usage(103, 2));
  });
});
