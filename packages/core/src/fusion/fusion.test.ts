import { afterEach, describe, expect, it, vi } from 'vitest';
import { chatBody, get, post, readSse, sseReader, waitFor } from '../__fixtures__/http.js';
import { createScriptedProvider } from '../__fixtures__/scripted-provider.js';
import { AbortedError } from '../errors/aborted-error.js';
import type { FusionError } from '../errors/fusion-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import type { FusionEventName, FusionEvents } from '../events/fusion-events.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { PluginV1 } from '../spec/plugin/v1/plugin-v1.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';
import { createMockProvider, type MockModel } from '../test/mock-provider.js';
import { createFusion, type Fusion } from './fusion.js';
import type { FusionOptions } from './fusion-options.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
  vi.restoreAllMocks();
});

async function start(models: MockModel[] = [{ id: 'echo' }], options: FusionOptions = {}) {
  const mock = createMockProvider({ id: 'mock', models });
  fusion = createFusion({ healthIntervalMs: 0, ...options, providers: [mock, ...(options.providers ?? [])] });
  await fusion.ready;
  return { fusion, mock };
}

const ask = (model: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model,
  messages: [{ role: 'user', content: 'Say hello' }],
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<FusionError> {
  try {
    await promise;
  } catch (error) {
    return error as FusionError;
  }
  throw new Error('expected a rejection');
}

describe('Fusion library API', () => {
  it('chat, stream and embed', async () => {
    const { fusion } = await start([
      { id: 'echo', reply: 'a b' },
      { id: 'bge', capabilities: { embeddings: true } },
    ]);
    const result = await fusion.chat(ask('mock/echo'));
    expect(result.choices[0]?.message.content).toBe('a b');
    expect(result.model).toBe('mock/echo');
    let text = '';
    for await (const chunk of fusion.stream(ask('echo'))) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('a b');
    const embedding = await fusion.embed({ model: 'mock/bge', input: 'x' });
    expect(embedding.data).toHaveLength(1);
    expect(embedding.model).toBe('mock/bge');
    expect((await fusion.models()).map((model) => model.id)).toEqual(['mock/echo', 'mock/bge']);
  });

  it('validates library calls like HTTP ones', async () => {
    const { fusion } = await start();
    expect(await failure(fusion.chat({ model: 'mock/echo', messages: [] }))).toMatchObject({
      status: 400,
      param: 'messages',
    });
    expect(await failure(fusion.chat(ask('missing')))).toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
  });

  it('stopping a stream early aborts the provider call and frees the slot', async () => {
    const { fusion, mock } = await start([{ id: 'echo', reply: 'a b c d e f', delayMs: 10 }]);
    for await (const chunk of fusion.stream(ask('mock/echo'), { requestId: 'early' })) {
      if (chunk.choices[0]?.delta.content) break;
    }
    expect(mock.aborted).toContain('early');
    expect(fusion.queueStats().running).toBe(0);
    expect(fusion.inFlight).toBe(0);
  });

  it('aborting a non-streamed call aborts the provider and frees the slot', async () => {
    const { fusion, mock } = await start([{ id: 'slow', delayMs: 5000 }]);
    const controller = new AbortController();
    const pending = failure(fusion.chat(ask('mock/slow'), { signal: controller.signal, requestId: 'stop' }));
    await waitFor(() => mock.calls.length === 1);
    controller.abort();
    const error = await pending;
    expect(error).toBeInstanceOf(AbortedError);
    expect(mock.aborted).toContain('stop');
    expect(fusion.queueStats().running).toBe(0);
  });

  it('the HTTP client aborting a non-streamed call aborts the provider', async () => {
    const { fusion, mock } = await start([{ id: 'slow', delayMs: 5000 }]);
    const controller = new AbortController();
    const response = post(fusion, '/v1/chat/completions', chatBody('mock/slow'), {
      signal: controller.signal,
      headers: { 'x-request-id': 'gone' },
    });
    await waitFor(() => mock.calls.length === 1);
    controller.abort();
    await response;
    expect(mock.aborted).toContain('gone');
    expect(fusion.queueStats().running).toBe(0);
  });
});

describe('Fusion timeouts', () => {
  it('answers 504 when the first token takes too long (before commit)', async () => {
    const { fusion, mock } = await start([{ id: 'slow', delayMs: 2000 }], { firstTokenTimeoutMs: 50 });
    const startedAt = Date.now();
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/slow', { stream: true }), {
      headers: { 'x-request-id': 'ft' },
    });
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({
      error: { code: 'timeout_first_token', type: 'server_error' },
    });
    expect(Date.now() - startedAt).toBeLessThan(1500);
    expect(mock.aborted).toContain('ft');
    expect(fusion.queueStats().running).toBe(0);
  });

  it('ends the stream with an error event when the next chunk takes too long (after commit)', async () => {
    const provider = createScriptedProvider({
      stream: [{ content: 'Hi' }, { waitMs: 3000 }, { content: 'late' }],
    });
    const { fusion } = await start([], {
      providers: [provider],
      firstTokenTimeoutMs: 10_000,
      idleTimeoutMs: 50,
    });
    const startedAt = Date.now();
    const response = await post(fusion, '/v1/chat/completions', chatBody('script/model', { stream: true }));
    expect(response.status).toBe(200);
    const { events, done } = await readSse(response);
    expect(done).toBe(false);
    expect(events.at(-1)).toMatchObject({ error: { code: 'timeout_idle' } });
    expect(JSON.stringify(events)).not.toContain('late');
    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(provider.aborted).toHaveLength(1);
  });

  it('answers 504 when a provider ignores its signal and never answers', async () => {
    const hung: ProviderV1 = {
      specificationVersion: 'v1',
      id: 'hung',
      async models() {
        return [{ id: 'model' }];
      },
      doChat: () => new Promise<ChatResult>(() => {}),
      doStream: () => ({
        [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<ChatChunk>>(() => {}) }),
      }),
    };
    fusion = createFusion({ providers: [hung], healthIntervalMs: 0, timeoutMs: 80 });
    const response = await post(fusion, '/v1/chat/completions', chatBody('hung/model'));
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({ error: { code: 'timeout_total' } });
    const streamed = await post(fusion, '/v1/chat/completions', chatBody('hung/model', { stream: true }));
    expect(streamed.status).toBe(504);
    expect(fusion.queueStats().running).toBe(0);
    expect(fusion.inFlight).toBe(0);
    expect(await failure(fusion.chat(ask('hung/model'), { timeoutMs: 30 }))).toBeInstanceOf(TimeoutError);
  });

  it('a stream provider that ignores its signal after content cannot hang the stream', async () => {
    const provider = createScriptedProvider({
      stream: [{ content: 'Hi' }, { hang: true, honourAbort: false }],
    });
    const { fusion } = await start([], { providers: [provider], idleTimeoutMs: 50 });
    const response = await post(fusion, '/v1/chat/completions', chatBody('script/model', { stream: true }));
    const { events } = await readSse(response);
    expect(events.at(-1)).toMatchObject({ error: { code: 'timeout_idle' } });
    expect(fusion.queueStats().running).toBe(0);
  });
});

describe('Fusion plugins', () => {
  it('applies chat:request and chat:result hooks in order', async () => {
    const { fusion, mock } = await start([{ id: 'echo', reply: 'raw answer' }]);
    const order: string[] = [];
    const plugin: PluginV1 = {
      specificationVersion: 'v1',
      name: 'policy',
      setup(api) {
        api.hook('chat:request', (request) => {
          order.push('request');
          return {
            ...request,
            max_tokens: 7,
            messages: [{ role: 'system', content: 'Be kind.' }, ...request.messages],
          };
        });
        api.hook(
          'chat:request',
          (request) => {
            order.push('request:pre');
            return { ...request, temperature: 0 };
          },
          { enforce: 'pre' },
        );
        api.hook('chat:result', (result) => {
          order.push('result');
          return { ...result, citations: ['doc-1'] };
        });
      },
    };
    await fusion.use(plugin);
    const result = await fusion.chat(ask('mock/echo'));
    expect(order).toEqual(['request:pre', 'request', 'result']);
    expect(result.citations).toEqual(['doc-1']);
    expect(mock.calls[0]?.request).toMatchObject({ max_tokens: 7, temperature: 0 });
    expect((mock.calls[0]!.request as ChatRequest).messages[0]).toEqual({
      role: 'system',
      content: 'Be kind.',
    });
    // Over HTTP the same hooks apply, and streams get the request hook.
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/echo'));
    expect(await response.json()).toMatchObject({ citations: ['doc-1'] });
    await readSse(await post(fusion, '/v1/chat/completions', chatBody('mock/echo', { stream: true })));
    expect(mock.calls.at(-1)?.request).toMatchObject({ max_tokens: 7 });
  });

  it('a hook may route a request to another model', async () => {
    const { fusion, mock } = await start([
      { id: 'a', reply: 'from a' },
      { id: 'b', reply: 'from b' },
    ]);
    fusion.hook('chat:request', (request) =>
      request.model === 'mock/a' ? { ...request, model: 'mock/b' } : undefined,
    );
    const result = await fusion.chat(ask('mock/a'));
    expect(result.choices[0]?.message.content).toBe('from b');
    expect(mock.calls[0]?.request.model).toBe('b');
  });

  it('registers providers, routes and named parts through the plugin api, and tears down in reverse', async () => {
    const { fusion } = await start();
    const teardown: string[] = [];
    const extra = createMockProvider({ id: 'extra', models: [{ id: 'x', reply: 'extra!' }] });
    await fusion.use({
      specificationVersion: 'v1',
      name: 'first',
      async setup(api) {
        await api.registerProvider(extra, { aliases: { ex: 'extra/x' } });
        api.route('GET', '/api/first', () => new Response('first'));
        api.registerRouter({ specificationVersion: 'v1', name: 'r', doRoute: () => [] });
        expect(() =>
          api.registerRouter({ specificationVersion: 'v1', name: 'r', doRoute: () => [] }),
        ).toThrow(/already/);
      },
      teardown: () => {
        teardown.push('first');
      },
    });
    await fusion.use({
      specificationVersion: 'v1',
      name: 'second',
      setup() {},
      teardown: () => void teardown.push('second'),
    });
    expect((await fusion.chat(ask('ex'))).choices[0]?.message.content).toBe('extra!');
    expect(await (await get(fusion, '/api/first')).text()).toBe('first');
    expect(fusion.routers.has('r')).toBe(true);
    await expect(
      fusion.use({ specificationVersion: 'v2', name: 'future', setup() {} } as unknown as PluginV1),
    ).rejects.toThrow(/'v1'/);
    await fusion.close();
    expect(teardown).toEqual(['second', 'first']);
  });

  it('plugins given at creation are set up before ready resolves', async () => {
    const plugin: PluginV1 = {
      specificationVersion: 'v1',
      name: 'p',
      setup(api) {
        api.route('GET', '/api/p', () => new Response('p'));
      },
    };
    fusion = createFusion({ plugins: [plugin], healthIntervalMs: 0 });
    expect(await (await get(fusion, '/api/p')).text()).toBe('p');
  });
});

describe('Fusion events', () => {
  function record(target: Fusion, names: FusionEventName[]) {
    const seen: { name: FusionEventName; payload: unknown }[] = [];
    for (const name of names) target.events.on(name, (payload) => seen.push({ name, payload }));
    return seen;
  }
  const NAMES: FusionEventName[] = [
    'request:start',
    'request:end',
    'request:error',
    'provider:call:start',
    'provider:call:end',
    'provider:call:error',
    'stream:start',
    'stream:end',
    'stream:error',
  ];

  it('emits request, provider call and stream events with the request id', async () => {
    const { fusion } = await start([{ id: 'echo', reply: 'one two' }]);
    const seen = record(fusion, NAMES);
    await post(fusion, '/v1/chat/completions', chatBody('mock/echo'), { headers: { 'x-request-id': 'e-1' } });
    expect(seen.map((event) => event.name)).toEqual([
      'request:start',
      'provider:call:start',
      'provider:call:end',
      'request:end',
    ]);
    for (const event of seen) expect(event.payload).toMatchObject({ requestId: 'e-1' });
    expect(seen[1]?.payload).toMatchObject({
      provider: 'mock',
      model: 'mock/echo',
      stream: false,
      attempt: 1,
    });
    expect(seen[2]?.payload).toMatchObject({
      usage: { completion_tokens: 2 },
      durationMs: expect.any(Number),
    });
    expect(seen[3]?.payload).toMatchObject({ method: 'POST', path: '/v1/chat/completions', status: 200 });

    seen.length = 0;
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/echo', { stream: true }), {
      headers: { 'x-request-id': 'e-2' },
    });
    await response.text();
    expect(seen.map((event) => event.name)).toEqual([
      'request:start',
      'provider:call:start',
      'stream:start',
      'request:end',
      'provider:call:end',
      'stream:end',
    ]);
    expect(seen.find((event) => event.name === 'provider:call:end')?.payload).toMatchObject({
      stream: true,
      firstTokenMs: expect.any(Number),
      usage: { completion_tokens: 2 },
    });
    expect(seen.find((event) => event.name === 'stream:end')?.payload).toMatchObject({
      requestId: 'e-2',
      model: 'mock/echo',
      usage: { completion_tokens: 2 },
    });
  });

  it('emits stream:delta for each content chunk when someone listens', async () => {
    const { fusion, mock } = await start([{ id: 'echo', reply: 'one two three' }]);
    const deltas: FusionEvents['stream:delta'][] = [];
    fusion.events.on('stream:delta', (event) => deltas.push(event));
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/echo', { stream: true }), {
      headers: { 'x-request-id': 'd-1' },
    });
    await response.text();
    expect(deltas.map((event) => event.content).join('')).toBe('one two three');
    expect(deltas.every((event) => event.requestId === 'd-1' && event.model === 'mock/echo')).toBe(true);
    // Stopping early still aborts the upstream when deltas are observed.
    for await (const chunk of fusion.stream(ask('mock/echo'), { requestId: 'd-2' })) {
      if (chunk.choices[0]?.delta.content) break;
    }
    expect(mock.aborted).toContain('d-2');
  });

  it('emits error events', async () => {
    const { fusion } = await start([{ id: 'slow', delayMs: 1000 }], { timeoutMs: 30 });
    const seen = record(fusion, NAMES);
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/slow'), {
      headers: { 'x-request-id': 'e-3' },
    });
    expect(response.status).toBe(504);
    expect(seen.map((event) => event.name)).toEqual([
      'request:start',
      'provider:call:start',
      'provider:call:error',
      'request:error',
      'request:end',
    ]);
    const callError = seen[2]!.payload as FusionEvents['provider:call:error'];
    expect(callError.error.code).toBe('timeout_total');
    expect((seen[4]!.payload as FusionEvents['request:end']).status).toBe(504);
  });

  it('a throwing listener does not break the request', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { fusion } = await start([{ id: 'echo', reply: 'fine' }]);
    for (const name of NAMES) {
      fusion.events.on(name, () => {
        throw new Error(`listener of ${name} broke`);
      });
    }
    fusion.events.on('stream:delta', () => {
      throw new Error('delta listener broke');
    });
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/echo'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ choices: [{ message: { content: 'fine' } }] });
    const streamed = await readSse(
      await post(fusion, '/v1/chat/completions', chatBody('mock/echo', { stream: true })),
    );
    expect(streamed.done).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(errors).toHaveBeenCalled();
  });
});

describe('Fusion.close', () => {
  it('turns health to 503 draining and refuses new requests with 503', async () => {
    const { fusion } = await start();
    const closing = fusion.close();
    const health = await get(fusion, '/health');
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'draining' });
    const refused = await post(fusion, '/v1/chat/completions', chatBody('mock/echo'));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: { code: 'unavailable' } });
    expect(await failure(fusion.chat(ask('mock/echo')))).toMatchObject({ status: 503 });
    await closing;
    expect(fusion.close()).toBe(closing);
  });

  it('lets an in-flight stream finish before close resolves', async () => {
    const { fusion } = await start([{ id: 'slow', reply: 'a b c d e', delayMs: 20 }]);
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/slow', { stream: true }));
    const events = sseReader(response);
    await events.next();
    let closed = false;
    const closing = fusion.close({ timeoutMs: 5000 }).then(() => {
      closed = true;
    });
    const rest: unknown[] = [];
    for (let event = await events.next(); event !== undefined; event = await events.next()) rest.push(event);
    expect(rest.at(-1)).toBe('[DONE]');
    expect(rest.some((event) => typeof event === 'object' && event !== null && 'error' in event)).toBe(false);
    await closing;
    expect(closed).toBe(true);
  });

  it('waits for the in-flight stream, not for its timeout', async () => {
    const { fusion } = await start([{ id: 'slow', reply: 'a b', delayMs: 20 }]);
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/slow', { stream: true }));
    const startedAt = Date.now();
    const closing = fusion.close({ timeoutMs: 10_000 });
    await response.text();
    await closing;
    expect(Date.now() - startedAt).toBeLessThan(5000);
  });

  it('aborts a hung stream after its timeout, and closes providers', async () => {
    const provider = createScriptedProvider({
      stream: [{ content: 'Hi' }, { hang: true, honourAbort: false }],
    });
    let providerClosed = false;
    provider.close = async () => {
      providerClosed = true;
    };
    const { fusion } = await start([], { providers: [provider] });
    const response = await post(fusion, '/v1/chat/completions', chatBody('script/model', { stream: true }));
    const text = response.text();
    const startedAt = Date.now();
    await fusion.close({ timeoutMs: 100 });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(90);
    expect(Date.now() - startedAt).toBeLessThan(2000);
    const { events } = await readSse(new Response(await text));
    expect(events.at(-1)).toMatchObject({ error: { code: 'unavailable' } });
    expect(providerClosed).toBe(true);
    expect(fusion.queueStats().running).toBe(0);
  });
});
