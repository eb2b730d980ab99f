import {
  AbortedError,
  type ChatChunk,
  type ChatRequest,
  FusionError,
  InvalidRequestError,
  QueueFullError,
  UpstreamError,
} from '@fusionkit/core';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  aborted,
  BASE_URL,
  callOptions,
  collect,
  jsonFixtureResponse,
  readFixture,
  sseResponse,
  upstreamSignal,
} from './__fixtures__/mock-upstream.js';
import { createOpenAICompatible } from './create-openai-compatible.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const request: ChatRequest = {
  model: 'qwen2.5-0.5b-instruct-4bit',
  messages: [{ role: 'user', content: 'What is the capital of France?' }],
};

function streamFixture(fixture: string, options: Parameters<typeof sseResponse>[1] = {}) {
  const received: { body?: Record<string, unknown>; headers?: Headers } = {};
  server.use(
    http.post(`${BASE_URL}/chat/completions`, async ({ request: upstreamRequest }) => {
      received.body = (await upstreamRequest.json()) as Record<string, unknown>;
      received.headers = upstreamRequest.headers;
      return sseResponse(readFixture(fixture), options);
    }),
  );
  return received;
}

function text(chunks: ChatChunk[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
}

describe('doStream', () => {
  it.each(['upstream-chat.chunks.txt', 'lab-chat.chunks.txt'])(
    'streams %s: role first, content, finish with usage',
    async (fixture) => {
      const received = streamFixture(fixture);
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      const chunks = await collect(provider.doStream(request, callOptions({ requestId: 'req-stream-1' })));

      expect(chunks).toHaveLength(5);
      expect(chunks[0]?.choices[0]).toEqual({ index: 0, delta: { role: 'assistant' }, finish_reason: null });
      expect(chunks[1]?.choices[0]).toEqual({ index: 0, delta: { content: 'Paris' }, finish_reason: null });
      expect(text(chunks)).toBe('Paris is the capital of France — ✓ 🇫🇷');
      expect(chunks[4]?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
      expect(chunks[4]?.usage).toMatchObject({ prompt_tokens: 31, completion_tokens: 9, total_tokens: 40 });
      for (const chunk of chunks) {
        expect(chunk).toMatchObject({ object: 'chat.completion.chunk', model: 'qwen2.5-0.5b-instruct-4bit' });
        expect(chunk).not.toHaveProperty('request_id');
      }
      // The default flavor asks for usage: servers like OpenAI's only send it when asked.
      expect(received.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
      expect(received.headers?.get('x-request-id')).toBe('req-stream-1');
      expect(received.headers?.get('accept')).toBe('text/event-stream');
    },
  );

  it.each(['auto', 'openai'] as const)(
    'passes on the usage an OpenAI-shaped server sends in a last chunk with no choices (%s)',
    async (flavor) => {
      const received = streamFixture('openai-chat-usage-last.chunks.txt');
      const provider = createOpenAICompatible({ id: 'openai', baseURL: BASE_URL, flavor });
      const chunks = await collect(provider.doStream({ ...request, max_tokens: 64 }, callOptions()));
      expect(received.body).toMatchObject({ stream_options: { include_usage: true } });
      expect(text(chunks)).toBe('Paris is the capital of France.');
      const finish = chunks.findIndex((chunk) => chunk.choices[0]?.finish_reason === 'stop');
      expect(finish).toBeGreaterThan(0);
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 7, total_tokens: 21 });
      expect(chunks.slice(0, -1).every((chunk) => chunk.usage === undefined)).toBe(true);
    },
  );

  it('ends a stream without usage when the server sends none (the orchestrator then counts it)', async () => {
    streamFixture('openai-chat-no-usage.chunks.txt');
    const provider = createOpenAICompatible({ id: 'llama', baseURL: BASE_URL });
    const chunks = await collect(provider.doStream(request, callOptions()));
    expect(text(chunks)).toBe('Paris is the capital of France.');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
  });

  it('does not send stream_options to mlx-openai-server (the lab fork does not know it)', async () => {
    const received = streamFixture('lab-chat.chunks.txt');
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL, flavor: 'mlx-openai-server' });
    await collect(provider.doStream(request, callOptions()));
    expect(received.body).not.toHaveProperty('stream_options');
  });

  it('parses the events of one packet as they are taken: the first chunk is out before the rest are read', async () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const events = [
      chunk({ role: 'assistant', content: '' }),
      ...Array.from({ length: 62 }, (_, index) => chunk({ content: `w${index} ` })),
      chunk({}, 'stop'),
      'data: [DONE]\n\n',
    ];
    // The whole answer in one piece, as a fast upstream's packet.
    server.use(http.post(`${BASE_URL}/chat/completions`, () => sseResponse(events.join(''), { cuts: [0] })));
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const parse = vi.spyOn(JSON, 'parse');
    const parsedChunks = () =>
      parse.mock.calls.filter(([text]) => typeof text === 'string' && text.includes('chat.completion.chunk'))
        .length;
    try {
      const iterator = provider.doStream(request, callOptions())[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.value?.choices[0]?.delta.role).toBe('assistant');
      expect(parsedChunks()).toBe(1);
      const rest: ChatChunk[] = [];
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
      expect(rest).toHaveLength(63);
      expect(rest.at(-1)?.choices[0]?.finish_reason).toBe('stop');
      expect(parsedChunks()).toBe(64);
    } finally {
      parse.mockRestore();
    }
  });

  it('parses the stream whatever the TCP chunk boundaries', async () => {
    const body = readFixture('lab-chat.chunks.txt');
    const bytes = Buffer.byteLength(body);
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    for (const step of [1, 7, 61, 509]) {
      streamFixture('lab-chat.chunks.txt', {
        cuts: Array.from({ length: Math.ceil(bytes / step) }, (_, index) => index * step),
      });
      const chunks = await collect(provider.doStream(request, callOptions()));
      expect(text(chunks), `step ${step}`).toBe('Paris is the capital of France — ✓ 🇫🇷');
    }
  });

  it.each(['upstream-chat-tool-calls.chunks.txt', 'lab-chat-tool-calls.chunks.txt'])(
    'streams tool calls (%s)',
    async (fixture) => {
      streamFixture(fixture);
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      const chunks = await collect(provider.doStream(request, callOptions()));
      expect(chunks[1]?.choices[0]?.delta).toEqual({
        tool_calls: [
          {
            index: 0,
            id: expect.stringMatching(/^call_/),
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius"}' },
          },
        ],
      });
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
      expect(chunks.at(-1)?.usage?.completion_tokens).toBe(24);
    },
  );

  it('infers finish_reason "length" from the final usage and max_tokens', async () => {
    streamFixture('upstream-chat.chunks.txt');
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const chunks = await collect(provider.doStream({ ...request, max_tokens: 9 }, callOptions()));
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
  });

  it('asks OpenAI for usage and infers "length" from a usage-only last chunk', async () => {
    const id = 'chatcmpl-AbC';
    const event = (payload: object) => `data: ${JSON.stringify(payload)}\n\n`;
    const base = {
      id,
      object: 'chat.completion.chunk',
      created: 1732712350,
      model: 'gpt-4o-mini-2024-07-18',
    };
    const body =
      event({
        ...base,
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
        usage: null,
      }) +
      event({
        ...base,
        choices: [{ index: 0, delta: { content: 'Paris' }, finish_reason: null }],
        usage: null,
      }) +
      event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null }) +
      event({ ...base, choices: [], usage: { prompt_tokens: 14, completion_tokens: 1, total_tokens: 15 } }) +
      'data: [DONE]\n\n';
    let received: Record<string, unknown> | undefined;
    server.use(
      http.post(`${BASE_URL}/chat/completions`, async ({ request: upstreamRequest }) => {
        received = (await upstreamRequest.json()) as Record<string, unknown>;
        return sseResponse(body);
      }),
    );
    const provider = createOpenAICompatible({ id: 'openai', baseURL: BASE_URL, flavor: 'openai' });
    const chunks = await collect(provider.doStream({ ...request, max_completion_tokens: 1 }, callOptions()));
    expect(received).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 1,
    });
    expect(chunks.map((chunk) => (chunk.choices[0] ? chunk.choices[0].finish_reason : 'no choice'))).toEqual([
      null,
      null,
      'length',
      'no choice',
    ]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 1 } });
  });

  describe('errors', () => {
    it('throws the mapped error of an upstream {"error"} event after HTTP 200, before any content', async () => {
      streamFixture('upstream-stream-error.chunks.txt');
      const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
      const iterator = provider.doStream(request, callOptions())[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(first.value?.choices[0]?.delta).toEqual({ role: 'assistant' });
      const error = await iterator.next().catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(QueueFullError);
      expect(error).toMatchObject({
        status: 429,
        isRetryable: true,
        message: expect.stringContaining('at capacity'),
      });
      expect(await iterator.next()).toEqual({ value: undefined, done: true });
    });

    it('throws a lab server_error event as a retryable UpstreamError', async () => {
      streamFixture('lab-stream-error.chunks.txt');
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      const error = await collect(provider.doStream(request, callOptions())).catch(
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({
        status: 502,
        isRetryable: true,
        message: expect.stringContaining('[metal::malloc]'),
      });
    });

    it('throws an HTTP error status from the first next()', async () => {
      server.use(
        http.post(`${BASE_URL}/chat/completions`, () => jsonFixtureResponse('upstream-error-400.json', 400)),
      );
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      const iterator = provider.doStream(request, callOptions())[Symbol.asyncIterator]();
      await expect(iterator.next()).rejects.toBeInstanceOf(InvalidRequestError);
    });

    it('throws an error answered as JSON with HTTP 200', async () => {
      server.use(
        http.post(`${BASE_URL}/chat/completions`, () =>
          jsonFixtureResponse('lab-error-500-queue-full.json', 200),
        ),
      );
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      await expect(collect(provider.doStream(request, callOptions()))).rejects.toBeInstanceOf(QueueFullError);
    });

    it('fails a stream that ends before its finish chunk', async () => {
      const truncated =
        readFixture('upstream-chat.chunks.txt').split('\n\n').slice(0, 3).join('\n\n') + '\n\n';
      server.use(http.post(`${BASE_URL}/chat/completions`, () => sseResponse(truncated)));
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      const error = await collect(provider.doStream(request, callOptions())).catch(
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as FusionError).message).toMatch(/ended the stream before/);
    });

    it('fails a stream whose event passes maxEventBytes', async () => {
      const huge = `data: {"choices": [{"delta": {"content": "${'x'.repeat(300_000)}"}}]}\n\n`;
      server.use(http.post(`${BASE_URL}/chat/completions`, () => sseResponse(huge)));
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL, maxEventBytes: 100_000 });
      await expect(collect(provider.doStream(request, callOptions()))).rejects.toThrow(
        /larger than 100000 bytes/,
      );
    });
  });

  describe('releasing the upstream', () => {
    /** An upstream that sends the role and one content chunk, then keeps the stream open. */
    function endlessUpstream() {
      const state: { signal?: AbortSignal } = {};
      const head = readFixture('upstream-chat.chunks.txt').split('\n\n').slice(0, 2).join('\n\n') + '\n\n';
      server.use(
        http.post(`${BASE_URL}/chat/completions`, ({ request: upstreamRequest }) => {
          state.signal = upstreamSignal(upstreamRequest);
          return sseResponse(head, { endless: true, delayMs: 5, signal: state.signal });
        }),
      );
      return state;
    }

    it('destroys the upstream request when the signal aborts mid-stream', async () => {
      const upstream = endlessUpstream();
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      const controller = new AbortController();
      const iterator = provider
        .doStream(request, callOptions({ signal: controller.signal }))
        [Symbol.asyncIterator]();
      expect((await iterator.next()).value?.choices[0]?.delta.role).toBe('assistant');
      expect((await iterator.next()).value?.choices[0]?.delta.content).toBe('Paris');
      const pending = iterator.next();
      controller.abort();
      await expect(pending).rejects.toBeInstanceOf(AbortedError);
      await aborted(upstream.signal!);
      expect(upstream.signal?.aborted).toBe(true);
    });

    it('destroys the upstream request when the consumer breaks out of for await', async () => {
      const upstream = endlessUpstream();
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      const seen: ChatChunk[] = [];
      for await (const chunk of provider.doStream(request, callOptions())) {
        seen.push(chunk);
        if (chunk.choices[0]?.delta.content) break;
      }
      expect(seen).toHaveLength(2);
      await aborted(upstream.signal!);
      expect(upstream.signal?.aborted).toBe(true);
    });

    it('releases the upstream when return() is called while a next() is pending', async () => {
      const upstream = endlessUpstream();
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      const iterator = provider.doStream(request, callOptions())[Symbol.asyncIterator]();
      await iterator.next();
      await iterator.next();
      const pending = iterator.next();
      await iterator.return?.();
      expect(await pending).toEqual({ value: undefined, done: true });
      await aborted(upstream.signal!);
    });

    it('does not send a request when the stream is never iterated', async () => {
      const seen: string[] = [];
      server.use(
        http.post(`${BASE_URL}/chat/completions`, async ({ request: upstreamRequest }) => {
          seen.push(upstreamRequest.headers.get('x-request-id') ?? '');
          return sseResponse(readFixture('upstream-chat.chunks.txt'));
        }),
      );
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      provider.doStream(request, callOptions({ requestId: 'never-iterated' }));
      const closed = provider.doStream(request, callOptions({ requestId: 'closed-unread' }));
      await closed[Symbol.asyncIterator]().return?.();
      // A stream that is read goes out and ends: by then any request of the others would have too.
      await collect(provider.doStream(request, callOptions({ requestId: 'read' })));
      expect(seen).toEqual(['read']);
    });

    it('fails with the abort reason when the signal is aborted before the first next()', async () => {
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      const controller = new AbortController();
      controller.abort();
      const stream = provider.doStream(request, callOptions({ signal: controller.signal }));
      await expect(collect(stream)).rejects.toBeInstanceOf(AbortedError);
    });

    it('rejects calls after close()', async () => {
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      await provider.close();
      await expect(collect(provider.doStream(request, callOptions()))).rejects.toMatchObject({
        name: 'UnavailableError',
      });
      await expect(provider.doChat(request, callOptions())).rejects.toMatchObject({
        name: 'UnavailableError',
      });
    });

    it('answers an HTTP error without leaking a pending stream', async () => {
      server.use(
        http.post(`${BASE_URL}/chat/completions`, () => HttpResponse.text('overloaded', { status: 503 })),
      );
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      const error = await collect(provider.doStream(request, callOptions())).catch(
        (thrown: unknown) => thrown,
      );
      expect(FusionError.isInstance(error) && error.status).toBe(503);
    });
  });
});
