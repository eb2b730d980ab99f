import { afterEach, describe, expect, it } from 'vitest';
import { chatBody, type ErrorBody, get, post, readSse, sseReader, waitFor } from '../__fixtures__/http.js';
import { createScriptedProvider } from '../__fixtures__/scripted-provider.js';
import { UpstreamError } from '../errors/upstream-error.js';
import { createFusion, type Fusion } from '../fusion/fusion.js';
import type { FusionOptions } from '../fusion/fusion-options.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import { createMockProvider, type MockModel } from '../test/mock-provider.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

async function start(models: MockModel[] = [{ id: 'echo' }], options: FusionOptions = {}) {
  const mock = createMockProvider({ id: 'mock', models });
  fusion = createFusion({ healthIntervalMs: 0, ...options, providers: [mock, ...(options.providers ?? [])] });
  await fusion.ready;
  return { fusion, mock };
}

async function errorOf(response: Response): Promise<ErrorBody['error']> {
  const body = (await response.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  return body.error;
}

describe('POST /v1/chat/completions', () => {
  it('answers a non-streamed chat completion', async () => {
    const { fusion, mock } = await start([{ id: 'echo', reply: 'Hi there friend' }]);
    const response = await post(
      fusion,
      '/v1/chat/completions',
      chatBody('mock/echo', { max_completion_tokens: 20, stop: 'END' }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const result = (await response.json()) as ChatResult;
    expect(result).toMatchObject({
      object: 'chat.completion',
      model: 'mock/echo',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'Hi there friend' }, finish_reason: 'stop' },
      ],
    });
    expect(result.usage).toMatchObject({ completion_tokens: 3 });
    // The provider gets its own model id and the normalised request.
    expect(mock.calls[0]?.request).toMatchObject({ model: 'echo', max_tokens: 20, stop: ['END'] });
  });

  it('resolves an unprefixed id and an alias', async () => {
    const { fusion } = await start([{ id: 'echo' }], { aliases: { fast: 'mock/echo' } });
    for (const model of ['echo', 'fast']) {
      const response = await post(fusion, '/v1/chat/completions', chatBody(model));
      expect(response.status).toBe(200);
      expect(((await response.json()) as ChatResult).model).toBe('mock/echo');
    }
  });

  it('streams SSE with usage: null on content chunks and a final usage chunk', async () => {
    const { fusion } = await start([{ id: 'echo', reply: 'one two three' }]);
    const response = await post(
      fusion,
      '/v1/chat/completions',
      chatBody('mock/echo', { stream: true, stream_options: { include_usage: true } }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const { events, done } = await readSse(response);
    expect(done).toBe(true);
    const chunks = events as unknown as ChatChunk[];
    const withChoices = chunks.filter((chunk) => chunk.choices.length > 0);
    expect(
      withChoices.every((chunk) => chunk.usage === null && chunk.object === 'chat.completion.chunk'),
    ).toBe(true);
    expect(withChoices.every((chunk) => chunk.model === 'mock/echo')).toBe(true);
    expect(withChoices[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(withChoices.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('one two three');
    expect(withChoices.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: 3 });
    expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
    expect(chunks.filter((chunk) => chunk.choices.length === 0)).toHaveLength(1);
  });

  it('streams without any usage field when include_usage is not asked for', async () => {
    const { fusion } = await start([{ id: 'echo', reply: 'one two' }]);
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/echo', { stream: true }));
    const { events, done } = await readSse(response);
    expect(done).toBe(true);
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (const event of events) {
      expect('usage' in event).toBe(false);
      expect((event as unknown as ChatChunk).choices.length).toBe(1);
    }
  });

  it('refuses tools for a model that declares it cannot use them', async () => {
    const { fusion, mock } = await start([{ id: 'small', capabilities: { tools: false } }]);
    const tools = [{ type: 'function', function: { name: 'look', parameters: { type: 'object' } } }];
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/small', { tools }));
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({
      code: 'unsupported',
      param: 'tools',
      type: 'invalid_request_error',
    });
    expect(mock.calls).toHaveLength(0);
  });

  it('refuses chat to an embedding model, and embeddings from a chat model', async () => {
    const { fusion } = await start([
      { id: 'bge', capabilities: { embeddings: true } },
      { id: 'chat', type: 'chat' },
    ]);
    const chat = await post(fusion, '/v1/chat/completions', chatBody('mock/bge'));
    expect(chat.status).toBe(400);
    expect(await errorOf(chat)).toMatchObject({ code: 'unsupported', param: 'model' });
    const streamed = await post(fusion, '/v1/chat/completions', chatBody('mock/bge', { stream: true }));
    expect(streamed.status).toBe(400);
    const embed = await post(fusion, '/v1/embeddings', { model: 'mock/chat', input: 'x' });
    expect(embed.status).toBe(400);
    expect(await errorOf(embed)).toMatchObject({ code: 'unsupported', param: 'model' });
  });

  it('refuses max_tokens beyond the context length', async () => {
    const { fusion } = await start([{ id: 'tiny', context_length: 100 }]);
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/tiny', { max_tokens: 101 }));
    expect(response.status).toBe(400);
    expect((await errorOf(response)).param).toBe('max_tokens');
  });

  it('answers 404 model_not_found for an unknown model, streamed or not', async () => {
    const { fusion } = await start();
    for (const stream of [false, true]) {
      const response = await post(fusion, '/v1/chat/completions', chatBody('nope/nothing', { stream }));
      expect(response.status).toBe(404);
      expect(await errorOf(response)).toMatchObject({
        code: 'model_not_found',
        param: 'model',
        type: 'not_found_error',
      });
    }
  });

  it('gives the provider’s error status when a stream fails before its first chunk', async () => {
    // Retried and counted by the breaker by default; this test is about the status alone.
    const { fusion } = await start(
      [{ id: 'broken', error: new UpstreamError('upstream exploded', { status: 502 }) }],
      { resilience: false },
    );
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/broken', { stream: true }));
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await errorOf(response)).toMatchObject({ code: 'upstream_error', message: 'upstream exploded' });
    const plain = await post(fusion, '/v1/chat/completions', chatBody('mock/broken'));
    expect(plain.status).toBe(502);
  });

  it('hides an unknown provider error behind a 500 internal_error', async () => {
    const { fusion } = await start([{ id: 'bug', error: new TypeError('cannot read x of undefined') }]);
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      const response = await post(fusion, '/v1/chat/completions', chatBody('mock/bug', { stream: true }));
      expect(response.status).toBe(500);
      const error = await errorOf(response);
      expect(error.code).toBe('internal_error');
      expect(error.message).not.toContain('undefined');
    } finally {
      console.error = original;
    }
    expect(errors).toHaveLength(1);
  });

  it('ends a committed stream with an error event when the provider fails after content', async () => {
    const provider = createScriptedProvider({
      id: 'script',
      stream: [{ content: 'Hello' }, { throw: new UpstreamError('connection reset', { status: 502 }) }],
    });
    const { fusion } = await start([], { providers: [provider] });
    const response = await post(fusion, '/v1/chat/completions', chatBody('script/model', { stream: true }));
    expect(response.status).toBe(200);
    const { events, done } = await readSse(response);
    expect(done).toBe(false);
    expect((events[1] as unknown as ChatChunk).choices[0]?.delta.content).toBe('Hello');
    expect(events.at(-1)).toEqual({
      error: { message: 'connection reset', type: 'server_error', code: 'upstream_error', param: null },
    });
    expect(fusion.queueStats().running).toBe(0);
  });

  it('answers 429 with Retry-After when the queue is full', async () => {
    const { fusion } = await start([{ id: 'slow', delayMs: 200 }], {
      queue: { perModelConcurrency: 1, perModelMaxWaiting: 0 },
    });
    const first = post(fusion, '/v1/chat/completions', chatBody('mock/slow'));
    await waitFor(() => fusion.queueStats().running === 1);
    const refused = await post(fusion, '/v1/chat/completions', chatBody('mock/slow'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await errorOf(refused)).toMatchObject({ code: 'queue_full', type: 'rate_limit_error' });
    expect((await first).status).toBe(200);
    expect(fusion.queueStats().models['mock/slow']).toMatchObject({ rejected: 1, completed: 1, running: 0 });
  });
});

describe('POST /v1/embeddings', () => {
  it('answers float vectors for a string or an array', async () => {
    const { fusion, mock } = await start([{ id: 'bge', capabilities: { embeddings: true }, dimensions: 4 }]);
    const response = await post(fusion, '/v1/embeddings', { model: 'mock/bge', input: ['a', 'bb'] });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      object: string;
      model: string;
      data: { index: number; embedding: number[] }[];
    };
    expect(body).toMatchObject({
      object: 'list',
      model: 'mock/bge',
      usage: { prompt_tokens: 2, total_tokens: 2 },
    });
    expect(body.data.map((item) => item.index)).toEqual([0, 1]);
    expect(body.data[0]?.embedding).toHaveLength(4);
    expect(mock.calls[0]?.request).toMatchObject({ model: 'bge', input: ['a', 'bb'] });
    const single = await post(fusion, '/v1/embeddings', { model: 'mock/bge', input: 'a' });
    expect(((await single.json()) as typeof body).data[0]?.embedding).toEqual(body.data[0]?.embedding);
  });

  it('answers base64 float32 vectors, and asks the provider for floats', async () => {
    const { fusion, mock } = await start([{ id: 'bge', capabilities: { embeddings: true }, dimensions: 8 }]);
    const floats = (await (
      await post(fusion, '/v1/embeddings', { model: 'mock/bge', input: ['hello', 'world'] })
    ).json()) as {
      data: { embedding: number[] }[];
    };
    const response = await post(fusion, '/v1/embeddings', {
      model: 'mock/bge',
      input: ['hello', 'world'],
      encoding_format: 'base64',
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { embedding: string }[] };
    for (const [index, item] of body.data.entries()) {
      expect(typeof item.embedding).toBe('string');
      const bytes = Uint8Array.from(atob(item.embedding), (char) => char.charCodeAt(0));
      const decoded = new Float32Array(bytes.buffer);
      expect(decoded).toHaveLength(8);
      expect([...decoded]).toEqual(floats.data[index]!.embedding.map((value) => Math.fround(value)));
    }
    // Encoding is the HTTP boundary's job: the provider is not asked for base64.
    expect(mock.calls.at(-1)?.request).not.toHaveProperty('encoding_format', 'base64');
  });

  it('names the param of a bad embeddings request', async () => {
    const { fusion } = await start([{ id: 'bge', capabilities: { embeddings: true } }]);
    const response = await post(fusion, '/v1/embeddings', { model: 'mock/bge', input: [1, 2] });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).param).toBe('input');
  });
});

describe('GET /v1/models', () => {
  it('lists every model with metadata', async () => {
    const { fusion } = await start([
      { id: 'qwen', family: 'qwen2', context_length: 32768, tags: ['fast'], description: 'Qwen' },
      { id: 'bge', capabilities: { embeddings: true } },
    ]);
    const response = await get(fusion, '/v1/models');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { object: string; data: Record<string, unknown>[] };
    expect(body.object).toBe('list');
    expect(body.data).toEqual([
      expect.objectContaining({
        id: 'mock/qwen',
        object: 'model',
        owned_by: 'mock',
        type: 'chat',
        family: 'qwen2',
        context_length: 32768,
        tags: ['fast'],
        description: 'Qwen',
      }),
      expect.objectContaining({ id: 'mock/bge', type: 'embeddings' }),
    ]);
  });

  it('serves one model whose id has slashes, and by alias', async () => {
    const { fusion } = await start([{ id: 'mlx-community/Qwen3-4B-4bit' }], {
      aliases: { small: 'mock/mlx-community/Qwen3-4B-4bit' },
    });
    const response = await get(fusion, '/v1/models/mock/mlx-community/Qwen3-4B-4bit');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 'mock/mlx-community/Qwen3-4B-4bit', object: 'model' });
    const encoded = await get(fusion, `/v1/models/${encodeURIComponent('mock/mlx-community/Qwen3-4B-4bit')}`);
    expect(encoded.status).toBe(200);
    const aliased = await get(fusion, '/v1/models/small');
    expect(await aliased.json()).toMatchObject({ id: 'small', alias_of: 'mock/mlx-community/Qwen3-4B-4bit' });
  });

  it('answers 404 model_not_found for an unknown id', async () => {
    const { fusion } = await start();
    const response = await get(fusion, '/v1/models/mock/unknown');
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toMatchObject({ code: 'model_not_found', type: 'not_found_error' });
  });
});

describe('GET /health', () => {
  it('is 200 with a ready model, with per-model status', async () => {
    const { fusion } = await start();
    const response = await get(fusion, '/health');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({
      status: 'ok',
      models: { 'mock/echo': { status: 'ready', in_use: 0 } },
      providers: { mock: { status: 'ready' } },
    });
  });

  it('is 503 with no model at all, and says how to add one', async () => {
    fusion = createFusion({ healthIntervalMs: 0 });
    const response = await get(fusion, '/health');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { status: string; message: string };
    expect(body.status).toBe('unavailable');
    expect(body.message).toMatch(/FUSION_UPSTREAMS/);
  });

  it('is 503 when the provider reports itself unhealthy, and 200 once it recovers', async () => {
    const mock = createMockProvider({
      id: 'mock',
      health: { status: 'unhealthy', message: 'upstream down' },
    });
    fusion = createFusion({ providers: [mock], healthIntervalMs: 20 });
    await fusion.ready;
    const response = await get(fusion, '/health');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: 'unavailable',
      models: { 'mock/echo': { status: 'unhealthy', message: 'upstream down' } },
      providers: { mock: { status: 'unhealthy', message: 'upstream down' } },
    });
    mock.setHealth({ status: 'ready', queueDepth: 3, warmedUp: true });
    const current = fusion;
    await waitFor(() => current.health().status === 'ok');
    const recovered = await get(fusion, '/health');
    expect(recovered.status).toBe(200);
    expect(await recovered.json()).toMatchObject({
      providers: { mock: { queue_depth: 3, warmed_up: true } },
    });
  });

  it("reports plugins' readiness checks; /health/ready is 503 until every one is ready", async () => {
    const { fusion } = await start();
    const loading = ['docs', 'notes'];
    let undo: () => void = () => {};
    await fusion.use({
      specificationVersion: 'v1',
      name: 'loader',
      setup(api) {
        undo = api.registerHealthCheck({
          name: 'rag',
          check: () => ({ ready: loading.length === 0, loading }),
        });
        api.registerHealthCheck({ name: 'cache', check: () => ({ ready: true }) });
        expect(() => api.registerHealthCheck({ name: 'cache', check: () => ({ ready: true }) })).toThrow(
          /already registered/,
        );
      },
    });
    const health = await get(fusion, '/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      ready: false,
      checks: { rag: { ready: false, loading: ['docs', 'notes'] }, cache: { ready: true } },
    });
    const notReady = await get(fusion, '/health/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('cache-control')).toBe('no-store');
    expect(await notReady.json()).toMatchObject({ status: 'ok', ready: false });
    loading.splice(0);
    const ready = await get(fusion, '/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { rag: { ready: true, loading: [] } } });
    undo();
    expect(Object.keys((await (await get(fusion, '/health')).json()).checks)).toEqual(['cache']);
  });

  it('reads a check that throws as not ready, with its message', async () => {
    const { fusion } = await start();
    await fusion.use({
      specificationVersion: 'v1',
      name: 'broken',
      setup(api) {
        api.registerHealthCheck({
          name: 'broken',
          check: () => {
            throw new Error('index file missing');
          },
        });
      },
    });
    const response = await get(fusion, '/health/ready');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      ready: false,
      checks: { broken: { ready: false, error: 'index file missing' } },
    });
  });

  it('/health/ready is 503 with no model, and open without an API key', async () => {
    fusion = createFusion({ healthIntervalMs: 0, apiKeys: ['sk-test'] });
    const response = await get(fusion, '/health/ready');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'unavailable', ready: false });
  });

  it('is 503 when the provider cannot list its models', async () => {
    const mock = createMockProvider({ id: 'down' });
    mock.models = async () => {
      throw new Error('ECONNREFUSED');
    };
    fusion = createFusion({ providers: [mock], healthIntervalMs: 0 });
    await fusion.ready;
    const response = await get(fusion, '/health');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ providers: { down: { status: 'unhealthy' } } });
  });
});

describe('GET /v1/queue/stats', () => {
  it('answers mlx-openai-server’s nested shape plus per-model counters', async () => {
    const { fusion } = await start([{ id: 'echo' }], { queue: { concurrency: 4, maxWaiting: 9 } });
    await post(fusion, '/v1/chat/completions', chatBody('mock/echo'));
    const response = await get(fusion, '/v1/queue/stats');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      queue_stats: { queue_stats: Record<string, number>; models: Record<string, Record<string, number>> };
    };
    expect(body.status).toBe('ok');
    expect(body.queue_stats.queue_stats).toEqual({
      running: 0,
      queue_size: 0,
      max_queue_size: 9,
      active_requests: 0,
      max_concurrency: 4,
    });
    expect(body.queue_stats.models['mock/echo']).toMatchObject({
      running: 0,
      waiting: 0,
      completed: 1,
      rejected: 0,
    });
  });
});

describe('streams and the client', () => {
  it('aborts the provider and frees the queue slot when the client aborts mid-stream', async () => {
    const { fusion, mock } = await start([{ id: 'slow', reply: 'a b c d e f g h', delayMs: 30 }]);
    const controller = new AbortController();
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/slow', { stream: true }), {
      signal: controller.signal,
      headers: { 'x-request-id': 'abort-me' },
    });
    const events = sseReader(response);
    expect(await events.next()).toMatchObject({ object: 'chat.completion.chunk' });
    expect(fusion.queueStats().running).toBe(1);
    controller.abort();
    await waitFor(() => mock.aborted.includes('abort-me'));
    let last: unknown;
    for (let event = await events.next(); event !== undefined; event = await events.next()) last = event;
    expect(last).toMatchObject({ error: { code: 'aborted' } });
    await waitFor(() => fusion.queueStats().running === 0);
    expect(fusion.inFlight).toBe(0);
  });

  it('aborts the provider when the client leaves before the first token', async () => {
    const { fusion, mock } = await start([{ id: 'slow', delayMs: 5000 }]);
    const controller = new AbortController();
    const pending = post(fusion, '/v1/chat/completions', chatBody('mock/slow', { stream: true }), {
      signal: controller.signal,
      headers: { 'x-request-id': 'early-leave' },
    });
    await waitFor(() => mock.calls.length === 1);
    controller.abort();
    const response = await pending;
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await errorOf(response)).toMatchObject({ code: 'aborted' });
    expect(mock.aborted).toContain('early-leave');
    expect(fusion.queueStats().running).toBe(0);
    expect(fusion.inFlight).toBe(0);
  });

  it('aborts the provider at once when the client cancels the body while a chunk is pending', async () => {
    const provider = createScriptedProvider({
      stream: [{ content: 'a' }, { waitMs: 5000 }, { content: 'b' }],
    });
    const { fusion } = await start([], { providers: [provider] });
    const response = await post(fusion, '/v1/chat/completions', chatBody('script/model', { stream: true }), {
      headers: { 'x-request-id': 'cancel-me' },
    });
    const events = sseReader(response);
    expect(await events.next()).toMatchObject({ choices: [{ delta: { role: 'assistant' } }] });
    expect(await events.next()).toMatchObject({ choices: [{ delta: { content: 'a' } }] });
    // The next chunk is 5 s away: its read is pending when the client goes away.
    const pending = events.next().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const startedAt = Date.now();
    await events.reader.cancel();
    await pending;
    await waitFor(() => provider.aborted.includes('cancel-me'), 1000);
    await waitFor(() => fusion.queueStats().running === 0, 1000);
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(fusion.inFlight).toBe(0);
  });
});
