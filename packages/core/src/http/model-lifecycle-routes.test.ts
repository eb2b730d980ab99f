import { afterEach, describe, expect, it } from 'vitest';
import { BASE, get, post } from '../__fixtures__/http.js';
import { createFusion, type Fusion } from '../fusion/fusion.js';
import type { ModelInfo } from '../spec/model/model-info.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';
import { createMockProvider } from '../test/mock-provider.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

/** A provider that manages memory as in-process MLX does; it answers chats like the mock. */
function memoryProvider(sizes: Record<string, number>) {
  const loaded = new Set<string>();
  const log: string[] = [];
  const mock = createMockProvider({ id: 'mlx', models: Object.keys(sizes).map((id) => ({ id })) });
  const provider: ProviderV1 = {
    ...mock,
    async models() {
      return Object.keys(sizes).map((id): ModelInfo => ({ id, loaded: loaded.has(id) }));
    },
    async load(model) {
      log.push(`load ${model}`);
      loaded.add(model);
    },
    async unload(model) {
      log.push(`unload ${model}`);
      loaded.delete(model);
    },
    memoryBytes: (model) => sizes[model],
    async doChat(request, options) {
      log.push(`chat ${request.model}`);
      return mock.doChat(request, options);
    },
  };
  return { provider, log };
}

async function start() {
  const memory = memoryProvider({ small: 300, large: 600, medium: 400 });
  fusion = createFusion({
    healthIntervalMs: 0,
    memoryBudgetBytes: 1000,
    providers: [memory.provider, createMockProvider({ id: 'lab', models: [{ id: 'remote' }] })],
  });
  await fusion.ready;
  return { fusion, log: memory.log };
}

const remove = (target: Fusion, path: string) =>
  target.handle(new Request(`${BASE}${path}`, { method: 'DELETE' }));

describe('model lifecycle routes', () => {
  it('loads, shows the budget, evicts the least recently used model, and unloads', async () => {
    const { fusion, log } = await start();
    const first = await post(fusion, '/v1/models/load', { model: 'mlx/small', warmup: true });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      id: 'mlx/small',
      loadable: true,
      loaded: true,
      memory_bytes: 300,
      warmed_up: true,
      memory: { budget_bytes: 1000, loaded_bytes: 300 },
    });
    expect(log).toEqual(['load small', 'chat small']);
    await post(fusion, '/v1/models/load', { model: 'mlx/large' });
    const shown = (await (await get(fusion, '/v1/models/mlx/large')).json()) as Record<string, unknown>;
    expect(shown).toMatchObject({ loaded: true, memory: { budget_bytes: 1000, loaded_bytes: 900 } });
    // A third model would pass the budget: an idle model is evicted first, and it shows.
    const third = (await (await post(fusion, '/v1/models/load', { model: 'mlx/medium' })).json()) as {
      memory: { loaded_bytes: number };
    };
    expect(log.filter((line) => line.startsWith('unload'))).toHaveLength(1);
    expect(third.memory.loaded_bytes).toBeLessThanOrEqual(1000);
    await post(fusion, '/v1/models/load', { model: 'mlx/large' });
    const unloaded = await remove(fusion, '/v1/models/mlx/large');
    expect(unloaded.status).toBe(200);
    expect(await unloaded.json()).toMatchObject({
      id: 'mlx/large',
      loaded: false,
      memory: { loaded_bytes: 300 },
    });
    expect(log.at(-1)).toBe('unload large');
  });

  it("refuses to unload a model that serves a request: 409 model_busy with Retry-After, in OpenAI's shape", async () => {
    const { fusion } = await start();
    await post(fusion, '/v1/models/load', { model: 'mlx/small' });
    const release = await fusion.registry.use(fusion.registry.find('mlx/small')!);
    const busy = await remove(fusion, '/v1/models/mlx/small');
    expect(busy.status).toBe(409);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(await busy.json()).toEqual({
      error: {
        message:
          "Model 'mlx/small' is serving 1 request(s) and cannot be unloaded now; try again when it is idle.",
        type: 'invalid_request_error',
        code: 'model_busy',
        param: null,
      },
    });
    release();
    expect((await remove(fusion, '/v1/models/mlx/small')).status).toBe(200);
  });

  it('refuses upstream models with 400, unknown models with 404, bad bodies with 400', async () => {
    const { fusion } = await start();
    const upstream = await post(fusion, '/v1/models/load', { model: 'lab/remote' });
    expect(upstream.status).toBe(400);
    expect(((await upstream.json()) as { error: object }).error).toMatchObject({
      code: 'model_not_loadable',
      param: 'model',
    });
    expect((await remove(fusion, '/v1/models/lab/remote')).status).toBe(400);
    expect((await remove(fusion, '/v1/models/mlx/missing')).status).toBe(404);
    expect((await post(fusion, '/v1/models/load', { model: 'mlx/missing' })).status).toBe(404);
    expect((await post(fusion, '/v1/models/load', { model: 7 })).status).toBe(400);
    expect((await post(fusion, '/v1/models/load', { model: 'mlx/small', warmup: 'yes' })).status).toBe(400);
    expect((await (await get(fusion, '/v1/models/lab/remote')).json()) as object).toMatchObject({
      loadable: false,
      in_use: 0,
    });
  });
});
