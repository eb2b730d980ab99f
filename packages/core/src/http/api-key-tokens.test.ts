import { afterEach, describe, expect, it } from 'vitest';
import { chatBody, get, post } from '../__fixtures__/http.js';
import { ApiKeys } from '../auth/api-keys.js';
import { createFusion, type Fusion } from '../fusion/fusion.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';
import { createMockProvider } from '../test/mock-provider.js';

const A = { authorization: 'Bearer key-a' };
const B = { authorization: 'Bearer key-b' };

const started: Fusion[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((fusion) => fusion.close({ timeoutMs: 100 })));
});

/** Key `a` may spend 3 tokens a minute (every answer here costs more); key `b` is unlimited. */
async function start(provider: ProviderV1 = createMockProvider()): Promise<Fusion> {
  const apiKeys = new ApiKeys([
    { id: 'a', key: 'key-a', tokensPerMinute: 3 },
    { id: 'b', key: 'key-b' },
  ]);
  const fusion = createFusion({
    healthIntervalMs: 0,
    providers: [provider],
    apiKeys,
    pipelines: [{ name: 'fusion/first', strategy: 'fallback', targets: ['mock/echo'] }],
  });
  started.push(fusion);
  await fusion.ready;
  return fusion;
}

/** Whether key `a` is refused for its tokens now (any route checks the limit). */
async function refusedForTokens(fusion: Fusion): Promise<boolean> {
  const response = await get(fusion, '/v1/models', A);
  if (response.status !== 429) return false;
  expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
  return true;
}

describe('token limits of API keys', () => {
  it.each([
    ['/v1/chat/completions', chatBody('mock/echo')],
    ['/v1/chat/completions', chatBody('mock/echo', { stream: true })],
    ['/v1/completions', { model: 'mock/echo', prompt: 'Say hello' }],
    ['/v1/messages', { model: 'mock/echo', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] }],
    ['/v1/responses', { model: 'mock/echo', input: 'Say hello' }],
    ['/v1/responses', { model: 'mock/echo', input: 'Say hello', stream: true }],
    ['/v1/chat/completions', chatBody('fusion/first')],
    ['/api/fusion/chat', { ...chatBody('unused'), strategy: 'fallback', targets: ['mock/echo'] }],
  ])('counts the tokens of %s %j against the key that asked', async (path, body) => {
    const fusion = await start();
    const response = await post(fusion, path, body, { headers: A });
    expect(response.status).toBe(200);
    await response.text();
    expect(await refusedForTokens(fusion)).toBe(true);
  });

  it('charges the key that made the call even when another request takes its x-request-id', async () => {
    const mock = createMockProvider();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached!: () => void;
    const atUpstream = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const provider: ProviderV1 = {
      ...mock,
      async doChat(request, options) {
        reached();
        await gate;
        return mock.doChat(request, options);
      },
    };
    const fusion = await start(provider);
    const held = post(fusion, '/v1/chat/completions', chatBody('mock/echo'), {
      headers: { ...A, 'x-request-id': 'shared-id' },
    });
    await atUpstream;
    // Another key's request under the same id, while the first one is still running.
    expect((await get(fusion, '/v1/models', { ...B, 'x-request-id': 'shared-id' })).status).toBe(200);
    release();
    expect((await held).status).toBe(200);
    expect(await refusedForTokens(fusion)).toBe(true);
    // The other key was not charged for it (it has no limit, and still passes).
    expect((await get(fusion, '/v1/models', B)).status).toBe(200);
  });

  it('counts a background response against the key that created it', async () => {
    const fusion = await start();
    const ended = new Promise<void>((resolve) => {
      fusion.events.on('provider:call:end', () => resolve());
    });
    const created = await post(
      fusion,
      '/v1/responses',
      { model: 'mock/echo', input: 'Hi', background: true },
      {
        headers: A,
      },
    );
    expect(created.status).toBe(200);
    expect((await created.json()) as { status: string }).toMatchObject({ status: 'queued' });
    await ended;
    expect(await refusedForTokens(fusion)).toBe(true);
  });

  describe('through an upstream that serves the Responses API itself', () => {
    const usage = { input_tokens: 10, output_tokens: 10, total_tokens: 20 };
    const response = { id: 'resp_up', object: 'response', status: 'completed', output: [], usage };
    const passThrough = (): ProviderV1 => ({
      ...createMockProvider(),
      async doResponses(body) {
        if (body.stream !== true) return Response.json(response);
        const events = [
          { type: 'response.created', response: { ...response, status: 'in_progress', usage: null } },
          { type: 'response.output_text.delta', delta: 'the "usage": of words' },
          { type: 'response.completed', response },
        ];
        return new Response(
          events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join(''),
          {
            headers: { 'content-type': 'text/event-stream' },
          },
        );
      },
    });

    it.each([false, true])('counts its usage (stream: %s)', async (stream) => {
      const fusion = await start(passThrough());
      const answer = await post(
        fusion,
        '/v1/responses',
        { model: 'mock/echo', input: 'Hi', stream },
        {
          headers: A,
        },
      );
      expect(answer.status).toBe(200);
      // The client gets the upstream's answer unchanged.
      const text = await answer.text();
      expect(text).toContain('"resp_up"');
      expect(await refusedForTokens(fusion)).toBe(true);
      expect((await get(fusion, '/v1/models', B)).status).toBe(200);
    });
  });

  it('leaves a key without a token limit alone', async () => {
    const fusion = await start();
    for (let index = 0; index < 3; index++) {
      const response = await post(fusion, '/v1/chat/completions', chatBody('mock/echo'), { headers: B });
      expect(response.status).toBe(200);
    }
  });
});
