import { AbortedError, type EmbedRequest } from '@fusionkit/core';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  aborted,
  BASE_URL,
  callOptions,
  jsonFixtureResponse,
  upstreamSignal,
} from './__fixtures__/mock-upstream.js';
import { createOpenAICompatible } from './create-openai-compatible.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const request: EmbedRequest = {
  model: 'bge-small-en-v1.5',
  input: ['first text', 'second text'],
  encoding_format: 'base64',
};

describe('doEmbed', () => {
  it('posts to /embeddings, always asking for floats, and returns vectors in input order', async () => {
    let received: Record<string, unknown> | undefined;
    let requestId: string | null = null;
    server.use(
      http.post(`${BASE_URL}/embeddings`, async ({ request: upstreamRequest }) => {
        received = (await upstreamRequest.json()) as Record<string, unknown>;
        requestId = upstreamRequest.headers.get('x-request-id');
        return jsonFixtureResponse('upstream-embeddings.json');
      }),
    );
    const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
    const result = await provider.doEmbed(request, callOptions({ requestId: 'req-embed' }));
    expect(received).toEqual({
      model: 'bge-small-en-v1.5',
      input: ['first text', 'second text'],
      encoding_format: 'float',
    });
    expect(requestId).toBe('req-embed');
    expect(result).toEqual({
      object: 'list',
      model: 'bge-small-en-v1.5',
      data: [
        { object: 'embedding', index: 0, embedding: [0.0123, -0.0456, 0.0789, 0.1011] },
        { object: 'embedding', index: 1, embedding: [-0.2, 0.3, -0.4, 0.5] },
      ],
      usage: { prompt_tokens: 12, total_tokens: 12 },
    });
  });

  it('accepts lab answers with usage null', async () => {
    server.use(http.post(`${BASE_URL}/embeddings`, () => jsonFixtureResponse('lab-embeddings.json')));
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const result = await provider.doEmbed({ model: 'bge-small-en-v1.5', input: 'first text' }, callOptions());
    expect(result.usage).toEqual({ prompt_tokens: 0, total_tokens: 0 });
    expect(result.data[0]?.embedding).toHaveLength(4);
  });

  it('decodes base64 vectors and sorts by index', async () => {
    const vector = (values: number[]) => Buffer.from(new Float32Array(values).buffer).toString('base64');
    server.use(
      http.post(`${BASE_URL}/embeddings`, () =>
        HttpResponse.json({
          object: 'list',
          model: 'x',
          data: [
            { object: 'embedding', index: 1, embedding: vector([0.5, -1]) },
            { object: 'embedding', index: 0, embedding: vector([0.25, 2]) },
          ],
          usage: { prompt_tokens: 4, total_tokens: 4 },
        }),
      ),
    );
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const result = await provider.doEmbed(request, callOptions());
    expect(result.data.map((item) => item.embedding)).toEqual([
      [0.25, 2],
      [0.5, -1],
    ]);
  });

  it('destroys the upstream request when the signal aborts', async () => {
    let upstreamAborted: Promise<void> | undefined;
    server.use(
      http.post(`${BASE_URL}/embeddings`, async ({ request: upstreamRequest }) => {
        upstreamAborted = aborted(upstreamSignal(upstreamRequest));
        await upstreamAborted;
        return HttpResponse.json({});
      }),
    );
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const controller = new AbortController();
    const call = provider.doEmbed(request, callOptions({ signal: controller.signal }));
    await expect.poll(() => upstreamAborted !== undefined).toBe(true);
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(AbortedError);
    await upstreamAborted;
  });
});
