import { ModelNotFoundError } from '@fusionkit/core';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, jsonFixtureResponse } from './__fixtures__/mock-upstream.js';
import { createOpenAICompatible } from './create-openai-compatible.js';

// Servers without `/v1/queue/stats` (most of them) answer 404; discovery then stays silent.
const server = setupServer(
  http.get(`${BASE_URL}/queue/stats`, () => new HttpResponse(null, { status: 404 })),
);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

describe('models', () => {
  it('maps upstream v1.8.1 models', async () => {
    server.use(http.get(`${BASE_URL}/models`, () => jsonFixtureResponse('upstream-models.json')));
    const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
    expect(await provider.models()).toEqual([
      {
        id: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit',
        type: 'chat',
        capabilities: { chat: true, tools: true },
        created: 1732712000,
        owned_by: 'local',
      },
    ]);
  });

  it('maps lab rich metadata and recognises embedding models', async () => {
    server.use(http.get(`${BASE_URL}/models`, () => jsonFixtureResponse('lab-models.json')));
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const [chat, modernbert, bge] = await provider.models();
    expect(chat).toEqual({
      id: 'qwen2.5-0.5b-instruct-4bit',
      type: 'chat',
      capabilities: { chat: true, tools: true },
      created: 1732712000,
      owned_by: 'local-mlx',
      description: 'Qwen language model running on MLX',
      context_length: 32768,
      family: 'qwen',
      tags: ['local', 'chat', 'quantized'],
      metadata: { tier: '3A' },
    });
    expect(modernbert).toMatchObject({
      type: 'embeddings',
      capabilities: { embeddings: true },
      context_length: 8192,
    });
    expect(bge).toMatchObject({
      id: 'bge-small-en-v1.5',
      type: 'embeddings',
      capabilities: { embeddings: true },
    });
    expect(bge).not.toHaveProperty('family');
  });

  it('uses a static list without calling the server', async () => {
    const provider = createOpenAICompatible({
      id: 'lab',
      baseURL: BASE_URL,
      models: ['qwen3-4b', 'text-embedding-3-small'],
    });
    expect(await provider.models()).toEqual([
      { id: 'qwen3-4b', type: 'chat', capabilities: { chat: true, tools: true } },
      { id: 'text-embedding-3-small', type: 'embeddings', capabilities: { embeddings: true } },
    ]);
    const described = createOpenAICompatible({
      id: 'lab',
      baseURL: BASE_URL,
      models: [{ id: 'qwen3-4b', context_length: 40960, capabilities: { chat: true, json_schema: true } }],
    });
    expect(await described.models()).toEqual([
      { id: 'qwen3-4b', context_length: 40960, capabilities: { chat: true, json_schema: true } },
    ]);
  });

  it('maps errors of the models call', async () => {
    server.use(
      http.get(`${BASE_URL}/models`, () => HttpResponse.json({ error: 'no such model' }, { status: 404 })),
    );
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    await expect(provider.models()).rejects.toBeInstanceOf(ModelNotFoundError);
  });

  it('exposes the normalised base URL and validates its options', () => {
    expect(createOpenAICompatible({ id: 'lab', baseURL: 'http://127.0.0.1:8000/v1/' }).baseURL).toBe(
      'http://127.0.0.1:8000/v1',
    );
    expect(() => createOpenAICompatible({ id: 'a/b', baseURL: BASE_URL })).toThrow(TypeError);
    expect(() => createOpenAICompatible({ id: 'lab', baseURL: 'ftp://host/v1' })).toThrow(TypeError);
  });

  describe('concurrency', () => {
    const modelsAnd = (stats: string) => {
      const probes: string[] = [];
      server.use(
        http.get(`${BASE_URL}/models`, () => jsonFixtureResponse('lab-models.json')),
        http.get(`${BASE_URL}/queue/stats`, () => {
          probes.push('queue/stats');
          return jsonFixtureResponse(stats);
        }),
      );
      return probes;
    };

    it("takes the lab fork's max_concurrency from /v1/queue/stats", async () => {
      modelsAnd('lab-queue-stats.json');
      const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
      const models = await provider.models();
      expect(models.map((model) => model.concurrency)).toEqual([1, 1, 1]);
    });

    it("falls back to upstream v1.8.1's max_queue_size, the point where it answers 429", async () => {
      modelsAnd('upstream-queue-stats.json');
      const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
      expect((await provider.models())[0]?.concurrency).toBe(100);
    });

    it('leaves it unset when the server does not say, and never probes an openai flavor', async () => {
      server.use(http.get(`${BASE_URL}/models`, () => jsonFixtureResponse('lab-models.json')));
      const plain = createOpenAICompatible({ id: 'vllm', baseURL: BASE_URL });
      expect((await plain.models())[0]?.concurrency).toBeUndefined();
      const probes = modelsAnd('lab-queue-stats.json');
      const openai = createOpenAICompatible({ id: 'oa', baseURL: BASE_URL, flavor: 'openai' });
      expect((await openai.models())[0]?.concurrency).toBeUndefined();
      expect(probes).toEqual([]);
    });

    it('prefers the configured concurrency and never exceeds maxSockets', async () => {
      const probes = modelsAnd('lab-queue-stats.json');
      const configured = createOpenAICompatible({
        id: 'a',
        baseURL: BASE_URL,
        concurrency: 12,
        maxSockets: 8,
      });
      expect((await configured.models())[0]?.concurrency).toBe(8);
      expect(probes).toEqual([]);
      const fixed = createOpenAICompatible({ id: 'b', baseURL: BASE_URL, models: ['m'], concurrency: 3 });
      expect(await fixed.models()).toEqual([expect.objectContaining({ id: 'm', concurrency: 3 })]);
      expect(() => createOpenAICompatible({ id: 'c', baseURL: BASE_URL, maxSockets: 0 })).toThrow(
        /maxSockets must be a positive integer/,
      );
    });
  });
});
