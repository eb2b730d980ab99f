import { afterEach, describe, expect, it, vi } from 'vitest';
import { BASE, chatBody, type ErrorBody, get, post } from '../__fixtures__/http.js';
import { createFusion, type Fusion } from '../fusion/fusion.js';
import type { FusionOptions } from '../fusion/fusion-options.js';
import { createMockProvider } from '../test/mock-provider.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
  vi.restoreAllMocks();
});

async function start(options: FusionOptions = {}) {
  const mock = createMockProvider({
    id: 'mock',
    models: [
      { id: 'echo' },
      { id: 'chat', capabilities: { chat: true, embeddings: false } },
      { id: 'bge', capabilities: { embeddings: true } },
    ],
  });
  fusion = createFusion({ healthIntervalMs: 0, providers: [mock], ...options });
  await fusion.ready;
  return { fusion, mock };
}

async function errorOf(response: Response): Promise<ErrorBody['error']> {
  const body = (await response.json()) as ErrorBody;
  expect(body).toEqual({
    error: {
      message: expect.any(String),
      type: expect.any(String),
      code: expect.any(String),
      param: body.error.param === null ? null : expect.any(String),
    },
  });
  return body.error;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('handle: request ids', () => {
  it('echoes a safe x-request-id on success and on errors', async () => {
    const { fusion } = await start();
    const ok = await post(fusion, '/v1/chat/completions', chatBody('mock/echo'), {
      headers: { 'x-request-id': 'req-42' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('req-42');
    const notFound = await get(fusion, '/nope', { 'x-request-id': 'req-43' });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('x-request-id')).toBe('req-43');
    const bad = await post(fusion, '/v1/chat/completions', '{', { headers: { 'x-request-id': 'req-44' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-request-id')).toBe('req-44');
    const stream = await post(fusion, '/v1/chat/completions', chatBody('mock/echo', { stream: true }), {
      headers: { 'x-request-id': 'req-45' },
    });
    expect(stream.headers.get('x-request-id')).toBe('req-45');
    await stream.text();
  });

  it('generates an id when none is sent, and passes it to the provider', async () => {
    const { fusion, mock } = await start();
    const response = await post(fusion, '/v1/chat/completions', chatBody('mock/echo'));
    const id = response.headers.get('x-request-id')!;
    expect(id).toMatch(UUID);
    expect(mock.calls[0]?.options.requestId).toBe(id);
  });

  it('replaces an unsafe id', async () => {
    const { fusion } = await start();
    for (const unsafe of [
      'has spaces in it',
      'x'.repeat(129),
      '<script>alert(1)</script>',
      'a"b',
      'ünïcode',
    ]) {
      const response = await get(fusion, '/v1/models', { 'x-request-id': unsafe });
      const id = response.headers.get('x-request-id');
      expect(id).not.toBe(unsafe);
      expect(id).toMatch(UUID);
    }
  });

  it('adds the id to responses of plugin routes that did not set it', async () => {
    const { fusion } = await start();
    fusion.route('GET', '/api/ping', () => new Response('pong'));
    const response = await get(fusion, '/api/ping', { 'x-request-id': 'p-1' });
    expect(await response.text()).toBe('pong');
    expect(response.headers.get('x-request-id')).toBe('p-1');
    // A response with immutable headers (as fetch returns) gets a copy with the id.
    fusion.route('GET', '/api/frozen', () => Response.redirect(`${BASE}/elsewhere`, 302));
    const frozen = await get(fusion, '/api/frozen', { 'x-request-id': 'p-2' });
    expect(frozen.status).toBe(302);
    expect(frozen.headers.get('x-request-id')).toBe('p-2');
    expect(frozen.headers.get('location')).toBe(`${BASE}/elsewhere`);
  });
});

describe('handle: routing', () => {
  it('answers 404 not_found for an unknown route', async () => {
    const { fusion } = await start();
    const response = await get(fusion, '/v2/unknown?x=1');
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toMatchObject({ code: 'not_found', type: 'not_found_error' });
  });

  it('answers 405 with Allow for a wrong method, and 204 to OPTIONS', async () => {
    const { fusion } = await start();
    const response = await get(fusion, '/v1/chat/completions');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(await errorOf(response)).toMatchObject({ code: 'method_not_allowed' });
    const deleteModels = await fusion.handle(new Request(`${BASE}/v1/models`, { method: 'DELETE' }));
    expect(deleteModels.status).toBe(405);
    expect(deleteModels.headers.get('allow')).toBe('GET, HEAD');
    // HEAD is GET without the body: served wherever GET is.
    const head = await fusion.handle(new Request(`${BASE}/v1/models`, { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toContain('application/json');
    const options = await fusion.handle(new Request(`${BASE}/v1/embeddings`, { method: 'OPTIONS' }));
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('POST');
  });

  it('answers 400 for invalid JSON and 400 naming the param for a schema violation', async () => {
    const { fusion } = await start();
    const invalid = await post(fusion, '/v1/chat/completions', '{"model": "mock/echo",');
    expect(invalid.status).toBe(400);
    expect(await errorOf(invalid)).toMatchObject({ code: 'invalid_request', type: 'invalid_request_error' });
    const schema = await post(fusion, '/v1/chat/completions', {
      model: 'mock/echo',
      messages: [
        { role: 'user', content: 'ok' },
        { role: 'robot', content: 'x' },
      ],
    });
    expect(schema.status).toBe(400);
    const error = await errorOf(schema);
    expect(error.param).toBe('messages[1].role');
    expect(error.message).toContain('messages[1].role');
    const n = await post(fusion, '/v1/chat/completions', chatBody('mock/echo', { n: 3, stream: true }));
    expect(n.status).toBe(400);
    expect(await errorOf(n)).toMatchObject({ code: 'unsupported', param: 'n' });
  });

  it('answers 413 for a body over the limit, declared or streamed', async () => {
    const { fusion, mock } = await start({ maxBodyBytes: 1000 });
    const big = JSON.stringify(chatBody('mock/echo', { padding: 'x'.repeat(2000) }));
    const declared = await post(fusion, '/v1/chat/completions', big);
    expect(declared.status).toBe(413);
    expect(await errorOf(declared)).toMatchObject({ code: 'payload_too_large' });
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += 300)
          controller.enqueue(bytes.slice(offset, offset + 300));
        controller.close();
      },
    });
    const streamed = await fusion.handle(
      new Request(`${BASE}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    expect(streamed.status).toBe(413);
    expect(mock.calls).toHaveLength(0);
  });

  it('serves a plugin route with params under the same error handling', async () => {
    const { fusion } = await start();
    await fusion.use({
      specificationVersion: 'v1',
      name: 'hello',
      setup(api) {
        api.route('GET', '/api/hello/:name', (_request, { params, requestId }) =>
          Response.json({ hello: params.name, requestId }),
        );
        api.route('POST', '/api/fail', () => {
          throw new Error('plugin bug with secret');
        });
      },
    });
    const response = await get(fusion, '/api/hello/J%C3%BCrgen', { 'x-request-id': 'h-1' });
    expect(await response.json()).toEqual({ hello: 'Jürgen', requestId: 'h-1' });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const failed = await post(fusion, '/api/fail', {});
    expect(failed.status).toBe(500);
    const error = await errorOf(failed);
    expect(error.code).toBe('internal_error');
    expect(error.message).not.toContain('secret');
  });
});

describe('handle: API keys and base path', () => {
  it('requires a valid bearer key, except for /health', async () => {
    const { fusion } = await start({ apiKeys: ['sk-one', 'sk-two'] });
    const missing = await get(fusion, '/v1/models');
    expect(missing.status).toBe(401);
    expect(await errorOf(missing)).toMatchObject({ code: 'invalid_api_key', type: 'authentication_error' });
    const wrong = await get(fusion, '/v1/models', { authorization: 'Bearer sk-three' });
    expect(wrong.status).toBe(401);
    const notBearer = await get(fusion, '/v1/models', { authorization: 'Basic sk-one' });
    expect(notBearer.status).toBe(401);
    expect((await get(fusion, '/v1/models', { authorization: 'Bearer sk-two' })).status).toBe(200);
    const chat = await post(fusion, '/v1/chat/completions', chatBody('mock/echo'), {
      headers: { authorization: 'Bearer sk-one' },
    });
    expect(chat.status).toBe(200);
    expect((await get(fusion, '/health')).status).toBe(200);
  });

  it('serves a public static GET route without a key, and its handler sees no key', async () => {
    const { fusion } = await start({ apiKeys: [{ id: 'ops', key: 'sk-ops', admin: true }, 'sk-app'] });
    const seen: unknown[] = [];
    fusion.route(
      'GET',
      '/page',
      (_request, { apiKey }) => {
        seen.push(apiKey);
        return new Response('static');
      },
      { public: true },
    );
    fusion.route('GET', '/data', (_request, { apiKey }) => Response.json(apiKey ?? null));
    expect((await get(fusion, '/page')).status).toBe(200);
    expect(seen).toEqual([undefined]);
    expect((await get(fusion, '/data')).status).toBe(401);
    expect(await (await get(fusion, '/data', { authorization: 'Bearer sk-ops' })).json()).toEqual({
      id: 'ops',
      admin: true,
    });
    // A plain-string key's id comes from its hash.
    expect(await (await get(fusion, '/data', { authorization: 'Bearer sk-app' })).json()).toEqual({
      id: expect.stringMatching(/^key-[0-9a-f]{12}$/),
    });
    // Only static GET routes may skip the key.
    expect(() => fusion.route('POST', '/form', () => new Response(''), { public: true })).toThrow(/public/);
    expect(() => fusion.route('GET', '/items/:id', () => new Response(''), { public: true })).toThrow(
      /public/,
    );
  });

  it('serves under the base path only', async () => {
    const { fusion } = await start({ basePath: '/ai/' });
    expect((await get(fusion, '/ai/v1/models')).status).toBe(200);
    expect((await get(fusion, '/ai/health')).status).toBe(200);
    expect((await post(fusion, '/ai/v1/chat/completions', chatBody('mock/echo'))).status).toBe(200);
    expect((await get(fusion, '/v1/models')).status).toBe(404);
    expect((await get(fusion, '/aiv1/models')).status).toBe(404);
    expect((await get(fusion, '/ai/v1/models/mock/echo')).status).toBe(200);
  });
});

describe('handle: nothing a client sends yields a 5xx', () => {
  /** JSON text of `depth` nested arrays: too deep for `JSON.stringify`, so built as text. */
  const deep = (depth: number): string => `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
  const message = { role: 'user', content: 'hi' };
  const cases: [string, string, unknown][] = [
    ['array body', '/v1/chat/completions', [1, 2]],
    ['number body', '/v1/chat/completions', 42],
    ['string body', '/v1/chat/completions', 'hello'],
    ['null body', '/v1/chat/completions', null],
    ['true body', '/v1/chat/completions', true],
    ['empty object', '/v1/chat/completions', {}],
    ['raw garbage', '/v1/chat/completions', '\u0000\u0001garbage'],
    ['raw empty', '/v1/chat/completions', ''],
    [
      'deeply nested field',
      '/v1/chat/completions',
      `{"model":"mock/echo","messages":[${JSON.stringify(message)}],"x":${deep(5000)}}`,
    ],
    [
      'deeply nested tool schema',
      '/v1/chat/completions',
      `{"model":"mock/echo","messages":[${JSON.stringify(message)}],"tools":[{"type":"function","function":{"name":"f","parameters":{"a":${deep(200)}}}}]}`,
    ],
    ['deeply nested raw', '/v1/chat/completions', `${'['.repeat(200_000)}${']'.repeat(200_000)}`],
    [
      'deeply nested content',
      '/v1/chat/completions',
      `{"model":"mock/echo","messages":[{"role":"user","content":${deep(3000)}}]}`,
    ],
    [
      'huge max_tokens',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [message], max_tokens: 1e308 },
    ],
    [
      'infinite temperature',
      '/v1/chat/completions',
      `{"model":"mock/echo","messages":[{"role":"user","content":"x"}],"temperature":1e999}`,
    ],
    ['negative n', '/v1/chat/completions', { model: 'mock/echo', messages: [message], n: -1 }],
    ['n = 2', '/v1/chat/completions', { model: 'mock/echo', messages: [message], n: 2 }],
    ['model number', '/v1/chat/completions', { model: 7, messages: [message] }],
    ['model object', '/v1/chat/completions', { model: { id: 'x' }, messages: [message] }],
    ['model __proto__', '/v1/chat/completions', { model: '__proto__', messages: [message] }],
    ['model constructor', '/v1/chat/completions', { model: 'constructor', messages: [message] }],
    ['model empty', '/v1/chat/completions', { model: '', messages: [message] }],
    ['messages string', '/v1/chat/completions', { model: 'mock/echo', messages: 'hi' }],
    ['messages object', '/v1/chat/completions', { model: 'mock/echo', messages: { 0: message } }],
    ['messages of null', '/v1/chat/completions', { model: 'mock/echo', messages: [null] }],
    [
      'unknown role',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [{ role: 'function', content: 'x' }] },
    ],
    ['no role', '/v1/chat/completions', { model: 'mock/echo', messages: [{ content: 'x' }] }],
    ['role number', '/v1/chat/completions', { model: 'mock/echo', messages: [{ role: 1, content: 'x' }] }],
    [
      'unknown part type',
      '/v1/chat/completions',
      {
        model: 'mock/echo',
        messages: [{ role: 'user', content: [{ type: 'video_url', video_url: { url: 'x' } }] }],
      },
    ],
    [
      'part without type',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [{ role: 'user', content: [{ text: 'x' }] }] },
    ],
    [
      'empty parts',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [{ role: 'user', content: [] }] },
    ],
    [
      'image in system',
      '/v1/chat/completions',
      {
        model: 'mock/echo',
        messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'x' } }] }],
      },
    ],
    [
      'tool without id',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [{ role: 'tool', content: 'x' }] },
    ],
    [
      'bad tool_calls',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 1 }] }] },
    ],
    ['stream string', '/v1/chat/completions', { model: 'mock/echo', messages: [message], stream: 'true' }],
    [
      'stream_options string',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [message], stream: true, stream_options: 'x' },
    ],
    [
      'include_usage string',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [message], stream: true, stream_options: { include_usage: 'yes' } },
    ],
    ['stop number', '/v1/chat/completions', { model: 'mock/echo', messages: [message], stop: 5 }],
    [
      'stop too many',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [message], stop: new Array(17).fill('x') },
    ],
    ['tools object', '/v1/chat/completions', { model: 'mock/echo', messages: [message], tools: { a: 1 } }],
    ['tools of strings', '/v1/chat/completions', { model: 'mock/echo', messages: [message], tools: ['x'] }],
    [
      'tool_choice alone',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [message], tool_choice: 'required' },
    ],
    [
      'tool_choice number',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [message], tool_choice: 1 },
    ],
    [
      'response_format string',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [message], response_format: 'json' },
    ],
    [
      'logit_bias values',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [message], logit_bias: { 1: 'x' } },
    ],
    [
      'temperature string',
      '/v1/chat/completions',
      { model: 'mock/echo', messages: [message], temperature: '0.5' },
    ],
    ['seed float', '/v1/chat/completions', { model: 'mock/echo', messages: [message], seed: 0.5 }],
    ['user number', '/v1/chat/completions', { model: 'mock/echo', messages: [message], user: 5 }],
    ['embed array body', '/v1/embeddings', ['x']],
    ['embed number input', '/v1/embeddings', { model: 'mock/bge', input: 5 }],
    ['embed token input', '/v1/embeddings', { model: 'mock/bge', input: [[1, 2]] }],
    ['embed nested input', '/v1/embeddings', `{"model":"mock/bge","input":${deep(1000)}}`],
    ['embed bad format', '/v1/embeddings', { model: 'mock/bge', input: 'x', encoding_format: 'hex' }],
    ['embed unknown model', '/v1/embeddings', { model: 'nope', input: 'x' }],
    ['embed from a model without embeddings', '/v1/embeddings', { model: 'mock/chat', input: 'x' }],
  ];

  it.each(cases)('%s → 4xx in OpenAI’s error shape', async (_name, path, body) => {
    const { fusion } = await start();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const response = await post(fusion, path, body);
      expect(response.status, await response.clone().text()).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      await errorOf(response);
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(unhandled).toEqual([]);
      expect(errors).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('chat with a valid request but garbage-typed extra fields still answers', async () => {
    const { fusion } = await start();
    const response = await post(fusion, '/v1/chat/completions', {
      ...chatBody('mock/echo'),
      whatever: { a: [1, { b: null }] },
      __proto__: { polluted: true },
    });
    expect(response.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
