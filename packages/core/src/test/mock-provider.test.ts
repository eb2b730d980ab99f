import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import { createMockProvider } from './mock-provider.js';

const options = (requestId = 'r') => ({ signal: new AbortController().signal, requestId });

describe('createMockProvider', () => {
  it('lists its models without test-only fields', async () => {
    const mock = createMockProvider({
      id: 'm',
      models: [{ id: 'a', reply: 'x', delayMs: 1, dimensions: 3, family: 'f' }],
    });
    expect(mock.specificationVersion).toBe('v1');
    expect(await mock.models()).toEqual([{ id: 'a', family: 'f' }]);
  });

  it('answers, streams word by word with usage, and records calls', async () => {
    const mock = createMockProvider({
      models: [{ id: 'echo', reply: (request) => `You said ${request.messages.length}` }],
    });
    const request = { model: 'echo', messages: [{ role: 'user' as const, content: 'hi' }] };
    const result = await mock.doChat(request, options());
    expect(result.choices[0]?.message.content).toBe('You said 1');
    const chunks: ChatChunk[] = [];
    for await (const chunk of mock.doStream(request, options())) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant' });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('You said 1');
    expect(chunks.at(-1)).toMatchObject({
      choices: [{ finish_reason: 'stop' }],
      usage: { completion_tokens: 3 },
    });
    expect(mock.calls.map((call) => call.kind)).toEqual(['chat', 'stream']);
  });

  it('embeds deterministically as unit vectors', async () => {
    const mock = createMockProvider({ models: [{ id: 'e', dimensions: 4 }] });
    const first = await mock.doEmbed!({ model: 'e', input: ['same', 'other'] }, options());
    const second = await mock.doEmbed!({ model: 'e', input: 'same' }, options());
    expect(second.data[0]?.embedding).toEqual(first.data[0]?.embedding);
    expect(first.data[1]?.embedding).not.toEqual(first.data[0]?.embedding);
    expect(Math.hypot(...first.data[0]!.embedding)).toBeCloseTo(1);
  });

  it('records aborts and stops a delayed answer at once', async () => {
    const mock = createMockProvider({ models: [{ id: 'slow', delayMs: 10_000 }] });
    const controller = new AbortController();
    const pending = mock.doChat(
      { model: 'slow', messages: [{ role: 'user', content: 'x' }] },
      { signal: controller.signal, requestId: 'gone' },
    );
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    expect(mock.aborted).toEqual(['gone']);
  });

  it('throws the configured error and reports the configured health', async () => {
    const mock = createMockProvider({
      models: [{ id: 'bad', error: new Error('nope') }],
      health: { status: 'loading' },
    });
    await expect(
      mock.doChat({ model: 'bad', messages: [{ role: 'user', content: 'x' }] }, options()),
    ).rejects.toThrow('nope');
    expect(await mock.health()).toEqual({ status: 'loading' });
    mock.setHealth({ status: 'ready' });
    expect(await mock.health()).toEqual({ status: 'ready' });
  });
});
