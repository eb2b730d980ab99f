import { describe, expect, it, vi } from 'vitest';
import { parseSse } from '../__fixtures__/http.js';
import { UpstreamError } from '../errors/upstream-error.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import { sseStream } from './sse-response.js';

function chunk(content: string | undefined, extra: Partial<ChatChunk> = {}): ChatChunk {
  return {
    id: 'c-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'p/m',
    choices: content === undefined ? [] : [{ index: 0, delta: { content }, finish_reason: null }],
    ...extra,
  };
}

async function* from(items: (ChatChunk | Error)[]): AsyncGenerator<ChatChunk> {
  for (const item of items) {
    if (item instanceof Error) throw item;
    yield item;
  }
}

const usage = { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 };

describe('sseStream', () => {
  it('sends the extra fields of a choice-less chunk on the last chunk, with or without usage', async () => {
    const fusion = { trace_id: 't-1', partial: true };
    for (const includeUsage of [true, false]) {
      const items = [chunk('a'), chunk(undefined, { usage, fusion })];
      const { events, done } = parseSse(
        await new Response(sseStream(undefined, from(items), { includeUsage })).text(),
      );
      expect(done).toBe(true);
      expect(events).toHaveLength(2);
      expect(events[1]).toMatchObject({ choices: [], fusion });
      if (includeUsage) expect(events[1]).toMatchObject({ usage });
      else expect(events[1]).not.toHaveProperty('usage');
    }
  });

  it('takes usage from a usage-only chunk and sends it last when asked', async () => {
    const onEnd = vi.fn();
    const body = sseStream(undefined, from([chunk('a'), chunk('b'), chunk(undefined, { usage })]), {
      includeUsage: true,
      onEnd,
    });
    const { events, done } = parseSse(await new Response(body).text());
    expect(done).toBe(true);
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({ usage: null, choices: [{ delta: { content: 'a' } }] });
    expect(events[2]).toEqual({
      id: 'c-1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'p/m',
      choices: [],
      usage,
    });
    expect(onEnd).toHaveBeenCalledWith({ usage });
  });

  it('sends no usage chunk when not asked, nor when the provider gave none', async () => {
    const withoutAsking = parseSse(
      await new Response(sseStream(undefined, from([chunk('a', { usage })]), { includeUsage: false })).text(),
    );
    expect(withoutAsking.events).toEqual([expect.not.objectContaining({ usage: expect.anything() })]);
    expect('usage' in withoutAsking.events[0]!).toBe(false);
    const noUsage = parseSse(
      await new Response(sseStream(undefined, from([chunk('a')]), { includeUsage: true })).text(),
    );
    expect(noUsage.events).toHaveLength(1);
    expect(noUsage.done).toBe(true);
  });

  it('starts with the chunk already read', async () => {
    const body = sseStream({ done: false, value: chunk('first') }, from([chunk('second')]), {
      includeUsage: false,
    });
    const { events } = parseSse(await new Response(body).text());
    expect(events.map((event) => (event as unknown as ChatChunk).choices[0]?.delta.content)).toEqual([
      'first',
      'second',
    ]);
  });

  it('ends with one error event and no [DONE] when the iterator fails', async () => {
    const onEnd = vi.fn();
    const error = new UpstreamError('reset');
    const body = sseStream(undefined, from([chunk('a'), error]), { includeUsage: false, onEnd });
    const { events, done } = parseSse(await new Response(body).text());
    expect(done).toBe(false);
    expect(events.at(-1)).toEqual(error.toJSON());
    expect(onEnd).toHaveBeenCalledWith({ error });
  });

  it('on cancel calls onCancel, returns the iterator and reports an abort once', async () => {
    const onCancel = vi.fn();
    const onEnd = vi.fn();
    let returned = false;
    const iterator: AsyncIterator<ChatChunk> = {
      next: async () => ({ done: false, value: chunk('x') }),
      return: async () => {
        returned = true;
        return { done: true, value: undefined };
      },
    };
    const reader = sseStream(undefined, iterator, { includeUsage: false, onCancel, onEnd }).getReader();
    await reader.read();
    await reader.cancel();
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(returned).toBe(true);
    expect(onEnd).toHaveBeenCalledTimes(1);
    expect(onEnd.mock.calls[0]?.[0].error.name).toBe('AbortError');
  });
});
