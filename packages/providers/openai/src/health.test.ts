import { AbortedError } from '@fusionkit/core';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, jsonFixtureResponse, ORIGIN } from './__fixtures__/mock-upstream.js';
import { createOpenAICompatible } from './create-openai-compatible.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

type Resolver = () => Response | Promise<Response>;

function upstream(health: Resolver, queueStats: Resolver) {
  server.use(http.get(`${ORIGIN}/health`, health), http.get(`${BASE_URL}/queue/stats`, queueStats));
}

describe('health', () => {
  it('trusts the HTTP status over the body: lab answers 503 with status "ok"', async () => {
    upstream(
      () => jsonFixtureResponse('lab-health-503.json', 503),
      () =>
        HttpResponse.json(
          { error: { message: 'Model handler not initialized', code: '503' } },
          { status: 503 },
        ),
    );
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const before = performance.now();
    const health = await provider.health();
    const elapsedMs = performance.now() - before;
    expect(health).toMatchObject({
      status: 'unhealthy',
      message: 'GET /health answered 503 (model_status: uninitialized)',
    });
    // A duration of this check, in ms: within the time the call took (not a timestamp, not seconds).
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
    expect(health.latencyMs).toBeLessThanOrEqual(elapsedMs + 1);
    expect(health).not.toHaveProperty('queueDepth');
  });

  it('is loading while lab warms up', async () => {
    upstream(
      () => jsonFixtureResponse('lab-health-503-warming.json', 503),
      () => jsonFixtureResponse('lab-queue-stats.json'),
    );
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    expect(await provider.health()).toMatchObject({ status: 'loading', warmedUp: false });
  });

  it('is ready with lab warm-up and queue depth from the twice-nested queue stats', async () => {
    upstream(
      () => jsonFixtureResponse('lab-health-200.json'),
      () => jsonFixtureResponse('lab-queue-stats.json'),
    );
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    expect(await provider.health()).toMatchObject({
      status: 'ready',
      warmedUp: true,
      queueDepth: 5,
      running: 1,
    });
  });

  it('reads upstream v1.8.1 health and queue stats (with batch stats beside them)', async () => {
    upstream(
      () => jsonFixtureResponse('upstream-health-200.json'),
      () => jsonFixtureResponse('upstream-queue-stats.json'),
    );
    const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL, flavor: 'mlx-openai-server' });
    const health = await provider.health();
    expect(health).toMatchObject({ status: 'ready', queueDepth: 3, running: 2 });
    expect(health).not.toHaveProperty('warmedUp');
  });

  it('reports upstream v1.8.1 503 as unhealthy', async () => {
    upstream(
      () => jsonFixtureResponse('upstream-health-503.json', 503),
      () => jsonFixtureResponse('upstream-error-503.json', 503),
    );
    const provider = createOpenAICompatible({ id: 'mlx', baseURL: BASE_URL });
    expect(await provider.health()).toMatchObject({ status: 'unhealthy' });
  });

  it('falls back to GET /models on servers without /health and /queue/stats', async () => {
    const notFound = () => HttpResponse.json({ detail: 'Not Found' }, { status: 404 });
    upstream(notFound, notFound);
    server.use(http.get(`${BASE_URL}/models`, () => jsonFixtureResponse('upstream-models.json')));
    const provider = createOpenAICompatible({ id: 'vllm', baseURL: BASE_URL });
    const health = await provider.health();
    expect(health.status).toBe('ready');
    expect(health).not.toHaveProperty('queueDepth');

    server.use(http.get(`${BASE_URL}/models`, () => HttpResponse.text('Unauthorized', { status: 401 })));
    expect(await provider.health()).toMatchObject({
      status: 'unhealthy',
      message: 'GET /models answered 401',
    });
  });

  it('does not probe /queue/stats for the openai flavor', async () => {
    server.use(http.get(`${ORIGIN}/health`, () => new HttpResponse(null, { status: 200 })));
    const provider = createOpenAICompatible({ id: 'vllm', baseURL: BASE_URL, flavor: 'openai' });
    expect(await provider.health()).toMatchObject({ status: 'ready' });
  });

  it('is unhealthy, not throwing, when the server is unreachable or slow', async () => {
    upstream(
      () => HttpResponse.error(),
      () => HttpResponse.error(),
    );
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    expect(await provider.health()).toMatchObject({
      status: 'unhealthy',
      message: expect.stringMatching(/unreachable/),
    });

    upstream(
      () => new Promise<never>(() => {}),
      () => new Promise<never>(() => {}),
    );
    const slow = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL, healthTimeoutMs: 30 });
    expect(await slow.health()).toMatchObject({
      status: 'unhealthy',
      message: expect.stringMatching(/within 30 ms/),
    });
  });

  it('throws when its signal aborts', async () => {
    upstream(
      () => new Promise<never>(() => {}),
      () => new Promise<never>(() => {}),
    );
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    const controller = new AbortController();
    const health = provider.health({ signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(health).rejects.toBeInstanceOf(AbortedError);
  });

  it('is unhealthy after close()', async () => {
    const provider = createOpenAICompatible({ id: 'lab', baseURL: BASE_URL });
    await provider.close();
    expect(await provider.health()).toMatchObject({ status: 'unhealthy' });
  });
});
