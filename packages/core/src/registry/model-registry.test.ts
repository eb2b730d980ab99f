import { describe, expect, it } from 'vitest';
import { FusionError } from '../errors/fusion-error.js';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { ModelNotFoundError } from '../errors/model-not-found-error.js';
import { UnavailableError } from '../errors/unavailable-error.js';
import { EventBus } from '../events/event-bus.js';
import type { FusionEvents } from '../events/fusion-events.js';
import type { ModelInfo } from '../spec/model/model-info.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';
import { createMockProvider } from '../test/mock-provider.js';
import { ModelRegistry } from './model-registry.js';

function setup(memoryBudgetBytes?: number) {
  const events = new EventBus();
  const seen: string[] = [];
  events.on('model:register', ({ model }) => seen.push(`register ${model}`));
  events.on('model:unregister', ({ model }) => seen.push(`unregister ${model}`));
  events.on('model:load', ({ model, bytes }) => seen.push(`load ${model} ${bytes}`));
  events.on('model:unload', ({ model, reason }) => seen.push(`unload ${model} ${reason}`));
  const registry = new ModelRegistry(
    memoryBudgetBytes === undefined ? { events } : { events, memoryBudgetBytes },
  );
  return { events, registry, seen };
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/**
 * A provider that manages memory like in-process MLX: models start unloaded, `load` and `unload`
 * are recorded, and a test can hold a load or an unload open.
 */
function createMemoryProvider(sizes: Record<string, number>, id = 'mem') {
  const loaded = new Set<string>();
  const log: string[] = [];
  const gates = { load: new Map<string, Deferred>(), unload: new Map<string, Deferred>() };
  const provider: ProviderV1 & { log: string[]; loaded: Set<string>; gates: typeof gates } = {
    specificationVersion: 'v1',
    id,
    log,
    loaded,
    gates,
    async models() {
      return Object.keys(sizes).map((model): ModelInfo => ({ id: model, loaded: loaded.has(model) }));
    },
    async load(model) {
      log.push(`load ${model}`);
      await gates.load.get(model)?.promise;
      loaded.add(model);
    },
    async unload(model) {
      log.push(`unload ${model}`);
      await gates.unload.get(model)?.promise;
      loaded.delete(model);
    },
    memoryBytes: (model) => sizes[model],
    async doChat() {
      throw new Error('not used');
    },
    doStream() {
      throw new Error('not used');
    },
  };
  return provider;
}

describe('ModelRegistry: providers and names', () => {
  it('registers several providers, each model as provider/model', async () => {
    const { registry, seen } = setup();
    await registry.register(createMockProvider({ id: 'lab', models: [{ id: 'qwen' }, { id: 'llama' }] }));
    await registry.register(createMockProvider({ id: 'mlx', models: [{ id: 'qwen' }, { id: 'org/bge' }] }));
    expect(registry.list().map((model) => model.id)).toEqual([
      'lab/qwen',
      'lab/llama',
      'mlx/qwen',
      'mlx/org/bge',
    ]);
    expect(registry.providers().map((provider) => provider.id)).toEqual(['lab', 'mlx']);
    expect(registry.provider('mlx')?.id).toBe('mlx');
    expect(registry.provider('nope')).toBeUndefined();
    const model = registry.find('mlx/org/bge')!;
    expect(model).toMatchObject({ id: 'mlx/org/bge', localId: 'org/bge', inUse: 0, status: 'ready' });
    expect(model.provider.id).toBe('mlx');
    expect(seen).toEqual([
      'register lab/qwen',
      'register lab/llama',
      'register mlx/qwen',
      'register mlx/org/bge',
    ]);
  });

  it('refuses a duplicate or malformed provider id, or another spec version', async () => {
    const { registry } = setup();
    await registry.register(createMockProvider({ id: 'a' }));
    await expect(registry.register(createMockProvider({ id: 'a' }))).rejects.toThrow(/already registered/);
    await expect(registry.register(createMockProvider({ id: 'a/b' }))).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
    const v2 = { ...createMockProvider({ id: 'v2' }), specificationVersion: 'v2' } as unknown as ProviderV1;
    await expect(registry.register(v2)).rejects.toThrow(/'v1'/);
    expect(registry.providers().map((provider) => provider.id)).toEqual(['a']);
  });

  it('leaves no trace of a provider whose discovery fails', async () => {
    const { registry } = setup();
    const provider = createMockProvider({ id: 'down' });
    provider.models = async () => {
      throw new Error('ECONNREFUSED');
    };
    await expect(registry.register(provider)).rejects.toThrow('ECONNREFUSED');
    expect(registry.providers()).toEqual([]);
    // The id is free again.
    await registry.register(createMockProvider({ id: 'down' }));
  });

  it('resolves an unprefixed id when exactly one provider has it, not when several do', async () => {
    const { registry } = setup();
    await registry.register(createMockProvider({ id: 'lab', models: [{ id: 'qwen' }, { id: 'llama' }] }));
    await registry.register(createMockProvider({ id: 'mlx', models: [{ id: 'qwen' }] }));
    expect(registry.find('llama')?.id).toBe('lab/llama');
    expect(registry.find('qwen')).toBeUndefined();
    expect(registry.find('missing')).toBeUndefined();
    expect(() => registry.resolve('qwen')).toThrow(ModelNotFoundError);
    const error = (() => {
      try {
        registry.resolve('missing');
      } catch (caught) {
        return caught as FusionError;
      }
    })()!;
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect(error.message).toContain("'missing'");
  });

  it('follows alias chains, to prefixed and unprefixed ids, and survives cycles', async () => {
    const { registry } = setup();
    await registry.register(createMockProvider({ id: 'lab', models: [{ id: 'qwen' }, { id: 'llama' }] }), {
      aliases: { fast: 'lab/qwen' },
    });
    registry.alias('default', 'fast');
    registry.alias('chat', 'default');
    registry.alias('big', 'llama');
    expect(registry.find('fast')?.id).toBe('lab/qwen');
    expect(registry.find('chat')?.id).toBe('lab/qwen');
    expect(registry.find('big')?.id).toBe('lab/llama');
    registry.alias('loop-a', 'loop-b');
    registry.alias('loop-b', 'loop-a');
    expect(registry.find('loop-a')).toBeUndefined();
    registry.unalias('fast');
    expect(registry.find('chat')).toBeUndefined();
    // A real id wins over an alias of the same name.
    registry.alias('lab/llama', 'lab/qwen');
    expect(registry.find('lab/llama')?.id).toBe('lab/llama');
  });

  it('refresh adds new models, updates known ones and removes vanished ones', async () => {
    const { registry, seen } = setup();
    const models: ModelInfo[] = [{ id: 'a' }, { id: 'b' }];
    const provider = createMockProvider({ id: 'p' });
    provider.models = async () => models;
    await registry.register(provider);
    const a = registry.find('p/a')!;
    models.splice(0, models.length, { id: 'a', family: 'qwen2' }, { id: 'c' });
    await registry.refresh('p');
    expect(registry.list().map((model) => model.id)).toEqual(['p/a', 'p/c']);
    expect(registry.find('p/a')).toBe(a);
    expect(a.info.family).toBe('qwen2');
    expect(registry.find('p/b')).toBeUndefined();
    expect(seen).toContain('unregister p/b');
    expect(seen).toContain('register p/c');
    await expect(registry.refresh('ghost')).rejects.toBeInstanceOf(ModelNotFoundError);
  });

  it('unregister removes the provider and its models, and is safe to repeat', async () => {
    const { registry, seen } = setup();
    const off = await registry.register(createMockProvider({ id: 'a', models: [{ id: 'x' }, { id: 'y' }] }));
    await registry.register(createMockProvider({ id: 'b', models: [{ id: 'x' }] }));
    expect(registry.find('x')).toBeUndefined();
    off();
    expect(registry.list().map((model) => model.id)).toEqual(['b/x']);
    expect(registry.providers().map((provider) => provider.id)).toEqual(['b']);
    expect(seen).toEqual(expect.arrayContaining(['unregister a/x', 'unregister a/y']));
    // Only one provider has 'x' now.
    expect(registry.find('x')?.id).toBe('b/x');
    off();
    registry.unregister('never');
    expect(registry.list()).toHaveLength(1);
  });

  it('applies health reports, per model when given', async () => {
    const { registry } = setup();
    await registry.register(createMockProvider({ id: 'p', models: [{ id: 'a' }, { id: 'b' }] }));
    registry.setHealth('p', { status: 'ready', models: { b: 'loading' }, message: 'warming' });
    expect(registry.find('p/a')?.status).toBe('ready');
    expect(registry.find('p/b')?.status).toBe('loading');
    expect(registry.find('p/b')?.statusMessage).toBe('warming');
    registry.setHealth('p', { status: 'unhealthy' });
    expect(registry.list().map((model) => model.status)).toEqual(['unhealthy', 'unhealthy']);
    expect(registry.health('p')?.status).toBe('unhealthy');
    registry.setHealth('ghost', { status: 'ready' });
    expect(registry.health('ghost')).toBeUndefined();
  });
});

describe('ModelRegistry.toListEntry', () => {
  it('has OpenAI’s fields and the lab’s metadata', async () => {
    const { registry } = setup();
    await registry.register(
      createMockProvider({
        id: 'lab',
        models: [
          {
            id: 'llama-3.2-3b',
            type: 'chat',
            family: 'llama',
            context_length: 131072,
            tags: ['instruct', '4bit'],
            description: 'Llama 3.2 3B',
            created: 1_700_000_000,
            owned_by: 'meta',
            capabilities: { tools: true },
            loaded: true,
          },
        ],
      }),
    );
    expect(registry.toListEntry(registry.find('lab/llama-3.2-3b')!)).toEqual({
      id: 'lab/llama-3.2-3b',
      object: 'model',
      created: 1_700_000_000,
      owned_by: 'meta',
      type: 'chat',
      family: 'llama',
      context_length: 131072,
      tags: ['instruct', '4bit'],
      description: 'Llama 3.2 3B',
      capabilities: { tools: true },
      loaded: true,
      status: 'ready',
    });
  });

  it('fills defaults, infers embeddings, and never lets metadata override its fields', async () => {
    const { registry } = setup();
    await registry.register(
      createMockProvider({
        id: 'p',
        models: [
          { id: 'plain' },
          { id: 'bge', capabilities: { embeddings: true } },
          {
            id: 'meta',
            family: 'qwen',
            metadata: {
              id: 'evil',
              object: 'nope',
              owned_by: 'x',
              type: 'y',
              status: 'ready!',
              family: 'z',
              quant: '4bit',
            },
          },
        ],
      }),
    );
    const plain = registry.toListEntry(registry.find('p/plain')!);
    expect(plain).toEqual({
      id: 'p/plain',
      object: 'model',
      created: 0,
      owned_by: 'p',
      type: 'chat',
      status: 'ready',
    });
    expect(registry.toListEntry(registry.find('p/bge')!).type).toBe('embeddings');
    const meta = registry.toListEntry(registry.find('p/meta')!);
    expect(meta).toMatchObject({
      id: 'p/meta',
      object: 'model',
      owned_by: 'p',
      type: 'chat',
      status: 'ready',
    });
    expect(meta.family).toBe('qwen');
    expect(meta.quant).toBe('4bit');
  });
});

describe('ModelRegistry: memory budget', () => {
  async function memorySetup(budget: number, sizes: Record<string, number>) {
    const context = setup(budget);
    const provider = createMemoryProvider(sizes);
    await context.registry.register(provider);
    const model = (name: string) => context.registry.find(`mem/${name}`)!;
    return { ...context, provider, model };
  }

  it('loads a model on first use and emits model:load', async () => {
    const { registry, provider, model, seen } = await memorySetup(100, { a: 40 });
    expect(model('a').info.loaded).toBe(false);
    const release = await registry.use(model('a'));
    expect(provider.log).toEqual(['load a']);
    expect(model('a').info.loaded).toBe(true);
    expect(model('a').inUse).toBe(1);
    expect(registry.loadedBytes()).toBe(40);
    release();
    release();
    expect(model('a').inUse).toBe(0);
    await registry.use(model('a'));
    expect(provider.log).toEqual(['load a']);
    expect(seen).toContain('load mem/a 40');
  });

  it('evicts the least recently used idle model when a load would pass the budget', async () => {
    const { registry, provider, model, seen } = await memorySetup(100, { a: 40, b: 40, c: 40 });
    (await registry.use(model('a')))();
    await new Promise((resolve) => setTimeout(resolve, 5));
    (await registry.use(model('b')))();
    await new Promise((resolve) => setTimeout(resolve, 5));
    // 'a' is used again: 'b' is now the least recently used.
    (await registry.use(model('a')))();
    await registry.use(model('c'));
    expect(provider.log).toEqual(['load a', 'load b', 'unload b', 'load c']);
    expect(model('b').info.loaded).toBe(false);
    expect(registry.loadedBytes()).toBe(80);
    expect(seen).toContain('unload mem/b evicted');
  });

  it('never evicts a model in use, even the least recently used one', async () => {
    const { registry, provider, model } = await memorySetup(100, { a: 40, b: 40, c: 40 });
    await registry.use(model('a')); // held: in use
    await new Promise((resolve) => setTimeout(resolve, 5));
    (await registry.use(model('b')))();
    await registry.use(model('c'));
    expect(provider.log).toEqual(['load a', 'load b', 'unload b', 'load c']);
    expect(model('a').info.loaded).toBe(true);
  });

  it('answers 503 when every loaded model is in use', async () => {
    const { registry, provider, model } = await memorySetup(100, { a: 50, b: 50, c: 10 });
    await registry.use(model('a'));
    await registry.use(model('b'));
    const error = (await registry.use(model('c')).catch((caught: unknown) => caught)) as FusionError;
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ status: 503, isRetryable: true });
    expect(model('c').inUse).toBe(0);
    expect(provider.log).toEqual(['load a', 'load b']);
  });

  it('refuses a model larger than the whole budget without unloading anything', async () => {
    const { registry, provider, model } = await memorySetup(100, { a: 60, huge: 101 });
    (await registry.use(model('a')))();
    const error = (await registry.use(model('huge')).catch((caught: unknown) => caught)) as FusionError;
    expect(FusionError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'memory_budget_exceeded', isRetryable: false });
    expect(error.message).toContain('101');
    expect(provider.log).toEqual(['load a']);
    expect(model('huge').inUse).toBe(0);
  });

  it('calls provider.load once for concurrent uses of the same model', async () => {
    const { registry, provider, model } = await memorySetup(100, { a: 40 });
    const gate = deferred();
    provider.gates.load.set('a', gate);
    const uses = Promise.all([registry.use(model('a')), registry.use(model('a')), registry.use(model('a'))]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    gate.resolve();
    await uses;
    expect(provider.log).toEqual(['load a']);
    expect(model('a').inUse).toBe(3);
  });

  it('keeps concurrent loads of different models under the budget', async () => {
    const { registry, provider, model } = await memorySetup(100, { a: 60, b: 60 });
    const gate = deferred();
    provider.gates.load.set('a', gate);
    const first = registry.use(model('a'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    // 'a' is loading and in use: it cannot be evicted, and together they would need 120 bytes.
    const second = registry.use(model('b')).catch((caught: unknown) => caught);
    gate.resolve();
    await first;
    expect(await second).toBeInstanceOf(UnavailableError);
    expect(provider.log).toEqual(['load a']);
    expect(registry.loadedBytes()).toBeLessThanOrEqual(100);
  });

  it('does not hand out a model while it is being evicted', async () => {
    const { registry, provider, model } = await memorySetup(100, { a: 60, b: 60 });
    (await registry.use(model('a')))();
    const unloadGate = deferred();
    provider.gates.unload.set('a', unloadGate);
    const usingB = registry.use(model('b')).catch((caught: unknown) => caught);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(provider.log).toEqual(['load a', 'unload a']);
    expect(model('a').info.loaded).toBe(false);
    // A request for 'a' arrives mid-eviction: it must not run on a model being unloaded.
    const usingA = registry.use(model('a')).catch((caught: unknown) => caught);
    unloadGate.resolve();
    const outcomes = { a: await usingA, b: await usingB };
    // Only one of them fits; the other is refused with 503, and a granted one is really loaded.
    const granted = Object.entries(outcomes).filter(([, outcome]) => typeof outcome === 'function');
    expect(granted).toHaveLength(1);
    for (const [name, outcome] of Object.entries(outcomes)) {
      if (typeof outcome === 'function') expect(provider.loaded.has(name)).toBe(true);
      else expect(outcome).toBeInstanceOf(UnavailableError);
    }
    expect(registry.loadedBytes()).toBeLessThanOrEqual(100);
    expect([...provider.loaded]).toEqual([granted[0]![0]]);
  });

  it('restores the loaded flag when an unload fails', async () => {
    const { registry, provider, model } = await memorySetup(100, { a: 40 });
    (await registry.use(model('a')))();
    provider.unload = async () => {
      throw new Error('busy');
    };
    await expect(registry.unload(model('a'))).rejects.toMatchObject({ code: 'internal_error' });
    expect(model('a').info.loaded).toBe(true);
    expect(registry.loadedBytes()).toBe(40);
  });

  it('emits model:error and releases the use when a load fails', async () => {
    const { registry, provider, model, events } = await memorySetup(100, { a: 40 });
    provider.load = async () => {
      throw new Error('metal out of memory');
    };
    const errors: FusionEvents['model:error'][] = [];
    events.on('model:error', (event) => errors.push(event));
    await expect(registry.use(model('a'))).rejects.toMatchObject({ status: 500 });
    expect(model('a').inUse).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.model).toBe('mem/a');
  });

  it('unload refuses a model in use, and unloads an idle one', async () => {
    const { registry, model, seen } = await memorySetup(100, { a: 40 });
    const release = await registry.use(model('a'));
    await expect(registry.unload(model('a'))).rejects.toMatchObject({ status: 409, code: 'model_busy' });
    release();
    await registry.unload(model('a'));
    expect(model('a').info.loaded).toBe(false);
    expect(seen).toContain('unload mem/a request');
  });

  it('leaves models of providers without load/unload alone', async () => {
    const { registry } = setup(10);
    await registry.register(createMockProvider({ id: 'p', models: [{ id: 'a', memory_bytes: 1000 }] }));
    const release = await registry.use(registry.find('p/a')!);
    release();
    await registry.unload(registry.find('p/a')!);
    expect(registry.loadedBytes()).toBe(0);
  });
});
