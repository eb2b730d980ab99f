import { describe, expect, it } from 'vitest';
import { createFusion } from '../fusion/fusion.js';
import { openChatStream } from '../http/chat-call.js';
import { ChatEventSource } from '../http/sse-response.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';
import type { ReadyValues } from './ready-values.js';

const chunk = (content: string | undefined, finish?: 'stop'): ChatChunk => ({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'upstream-name',
  choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish ?? null }],
});

/**
 * A provider stream that, like the OpenAI-compatible provider's, holds every chunk of a packet at
 * once: the first `next()` waits a turn, then the rest is ready.
 */
function packetStream(chunks: ChatChunk[], log: string[]): AsyncIterator<ChatChunk> & ReadyValues<ChatChunk> {
  let index = 0;
  let arrived = false;
  return {
    next: async () => {
      if (!arrived) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        arrived = true;
      }
      log.push('next');
      return index < chunks.length
        ? { done: false, value: chunks[index++]! }
        : { done: true, value: undefined };
    },
    takeReady: () => {
      if (!arrived || index >= chunks.length) return undefined;
      log.push('ready');
      return chunks[index++];
    },
    return: async () => ({ done: true, value: undefined }),
  };
}

/**
 * A live provider stream: one chunk per "packet", `gapMs` apart, announced through `onReady` as the
 * OpenAI-compatible provider's stream does. `stallAfter` chunks, it goes silent and ignores aborts.
 */
function liveStream(
  chunks: ChatChunk[],
  log: string[],
  { gapMs = 2, stallAfter = Number.POSITIVE_INFINITY } = {},
): AsyncIterator<ChatChunk> & Required<ReadyValues<ChatChunk>> {
  const queue: ChatChunk[] = [];
  let sent = 0;
  let ended = false;
  let ready: (() => void) | undefined;
  let waiter: ((result: IteratorResult<ChatChunk>) => void) | undefined;
  const deliver = () => {
    if (sent >= stallAfter) return;
    if (sent < chunks.length) queue.push(chunks[sent++]!);
    else ended = true;
    if (waiter) {
      const resolve = waiter;
      waiter = undefined;
      resolve(queue.length > 0 ? { done: false, value: queue.shift()! } : { done: true, value: undefined });
    } else {
      const wake = ready;
      ready = undefined;
      wake?.();
    }
    if (!ended) setTimeout(deliver, gapMs);
  };
  setTimeout(deliver, gapMs);
  return {
    next: () => {
      log.push('next');
      if (queue.length > 0) return Promise.resolve({ done: false, value: queue.shift()! });
      if (ended) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve) => {
        waiter = resolve;
      });
    },
    takeReady: () => {
      if (queue.length === 0) return undefined;
      log.push('ready');
      return queue.shift();
    },
    onReady: (callback) => {
      if (queue.length > 0 || ended || waiter) return false;
      ready = callback;
      return true;
    },
    return: async () => ({ done: true, value: undefined }),
  };
}

/** Reads a source as the node writer does: `read()`, then ready events, then a readiness wait. */
async function readLikeTheWriter(source: ChatEventSource): Promise<string[]> {
  const events: string[] = [];
  let text = await source.read();
  while (text !== undefined) {
    events.push(text);
    for (let more = source.readReady(); more !== undefined; more = source.readReady()) events.push(more);
    while (
      await new Promise<boolean>((resolve) => !source.whenReady(() => resolve(true)) && resolve(false))
    ) {
      const before = events.length;
      for (let more = source.readReady(); more !== undefined; more = source.readReady()) events.push(more);
      if (events.length === before) break;
    }
    text = await source.read();
  }
  return events;
}

function fusionOver(stream: () => AsyncIterator<ChatChunk>, options: { idleTimeoutMs?: number } = {}) {
  const provider = {
    specificationVersion: 'v1',
    id: 'p',
    models: async () => [
      { id: 'm', object: 'model', created: 1, owned_by: 'test', capabilities: { chat: true } },
    ],
    doChat: async () => {
      throw new Error('not used');
    },
    doStream: () => ({ [Symbol.asyncIterator]: stream }),
    health: async () => ({ status: 'ready' }),
  } as unknown as ProviderV1;
  return createFusion({ providers: [provider], healthIntervalMs: 0, ...options });
}

const request = { model: 'p/m', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('ready values through the stream path', () => {
  it('hands on the chunks a packet carried without a next() each, as next() would', async () => {
    const log: string[] = [];
    const fusion = fusionOver(() =>
      packetStream([chunk('a'), chunk('b'), chunk('c'), chunk(undefined, 'stop')], log),
    );
    const deltas: string[] = [];
    fusion.events.on('stream:delta', ({ content }) => deltas.push(content));
    const controller = new AbortController();
    const opened = await openChatStream(
      fusion,
      request,
      { requestId: 'r1', abort: controller.signal },
      new Request('http://x/'),
    );
    const source = new ChatEventSource(undefined, opened.chunks, {
      includeUsage: true,
      onEnd: (outcome) => opened.end(outcome),
    });
    const events: string[] = [];
    let text = await source.read();
    while (text !== undefined) {
      events.push(text);
      for (let more = source.readReady(); more !== undefined; more = source.readReady()) events.push(more);
      text = await source.read();
    }
    // One next() for the first chunk, the rest of the packet ready, one next() for the end.
    expect(log).toEqual(['next', 'ready', 'ready', 'ready', 'next']);
    const payloads = events.map((event) => event.slice('data: '.length).trim());
    const parsed = payloads.slice(0, 4).map((payload) => JSON.parse(payload) as ChatChunk);
    // Named after the model served, as next() names them.
    expect(parsed.map((item) => item.model)).toEqual(['p/m', 'p/m', 'p/m', 'p/m']);
    expect(parsed.map((item) => item.choices[0]?.delta.content ?? '')).toEqual(['a', 'b', 'c', '']);
    // The estimated usage the call counted over the ready chunks too, then [DONE].
    expect(events.at(-1)).toMatch(/"usage":\{"prompt_tokens":\d+,"completion_tokens":[1-9]\d*,/);
    expect(events.at(-1)).toMatch(/data: \[DONE\]\n\n$/);
    expect(deltas).toEqual(['a', 'b', 'c']);
    expect(fusion.queueStats().running).toBe(0);
    await fusion.close();
  });

  it('fails the stream with an error event when a ready chunk cannot be read', async () => {
    const log: string[] = [];
    const broken = {
      id: 'c',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
    } as unknown as ChatChunk;
    const fusion = fusionOver(() => packetStream([chunk('a'), broken, chunk('never')], log));
    const controller = new AbortController();
    const opened = await openChatStream(
      fusion,
      request,
      { requestId: 'r2', abort: controller.signal },
      new Request('http://x/'),
    );
    const source = new ChatEventSource(undefined, opened.chunks, { includeUsage: false, onEnd: opened.end });
    const events: string[] = [];
    let text = await source.read();
    while (text !== undefined) {
      events.push(text);
      for (let more = source.readReady(); more !== undefined; more = source.readReady()) events.push(more);
      text = await source.read();
    }
    expect(events).toHaveLength(2);
    expect(events[0]).toContain('"content":"a"');
    expect(events[1]).toMatch(/^data: \{"error":/);
    expect(events.join('')).not.toContain('never');
    expect(fusion.queueStats().running).toBe(0);
    await fusion.close();
  });

  it('wakes the reader of a live stream per chunk through onReady, with no next() in between', async () => {
    const log: string[] = [];
    const words = ['one', 'two', 'three', 'four', 'five'];
    const fusion = fusionOver(() =>
      liveStream([...words.map((word) => chunk(word)), chunk(undefined, 'stop')], log),
    );
    const controller = new AbortController();
    const opened = await openChatStream(
      fusion,
      request,
      { requestId: 'r3', abort: controller.signal },
      new Request('http://x/'),
    );
    const source = new ChatEventSource(undefined, opened.chunks, { includeUsage: false, onEnd: opened.end });
    const events = await readLikeTheWriter(source);
    // The first chunk through next(), every later one taken after a wake-up, and next() for the end.
    expect(log).toEqual(['next', 'ready', 'ready', 'ready', 'ready', 'ready', 'next']);
    expect(
      events.slice(0, 5).map((event) => (JSON.parse(event.slice(6)) as ChatChunk).choices[0]?.delta.content),
    ).toEqual(words);
    expect(events.at(-1)).toBe('data: [DONE]\n\n');
    expect(fusion.queueStats().running).toBe(0);
    await fusion.close();
  });

  it('wakes a reader waiting for a silent provider when the idle timeout aborts the call', async () => {
    const log: string[] = [];
    const fusion = fusionOver(
      () => liveStream([chunk('a'), chunk('b'), chunk('c')], log, { stallAfter: 2 }),
      {
        idleTimeoutMs: 50,
      },
    );
    const controller = new AbortController();
    const opened = await openChatStream(
      fusion,
      request,
      { requestId: 'r4', abort: controller.signal },
      new Request('http://x/'),
    );
    const source = new ChatEventSource(undefined, opened.chunks, { includeUsage: false, onEnd: opened.end });
    const events = await readLikeTheWriter(source);
    expect(
      events.slice(0, 2).map((event) => (JSON.parse(event.slice(6)) as ChatChunk).choices[0]?.delta.content),
    ).toEqual(['a', 'b']);
    expect(events).toHaveLength(3);
    expect(events[2]).toMatch(/^data: \{"error":/);
    expect(fusion.queueStats().running).toBe(0);
    await fusion.close();
  });
});
