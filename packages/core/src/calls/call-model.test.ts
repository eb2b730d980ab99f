import { describe, expect, it } from 'vitest';
import { EventBus } from '../events/event-bus.js';
import type { FusionEventName } from '../events/fusion-events.js';
import { HookRunner } from '../plugins/hook-runner.js';
import { RequestQueue } from '../queue/request-queue.js';
import { ModelRegistry } from '../registry/model-registry.js';
import type { CallOptions } from '../spec/call-options.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';
import { createMockProvider, type MockModel } from '../test/mock-provider.js';
import { callChat, callEmbed, callStream, hasContent, type ModelCallOptions } from './call-model.js';

const request: ChatRequest = { model: 'x', messages: [{ role: 'user', content: 'hi' }] };

function options(overrides: Partial<ModelCallOptions> = {}): ModelCallOptions {
  return {
    signal: new AbortController().signal,
    requestId: 'r-1',
    timeoutMs: 10_000,
    firstTokenTimeoutMs: 10_000,
    idleTimeoutMs: 10_000,
    ...overrides,
  };
}

async function setup(provider: ProviderV1) {
  const events = new EventBus();
  const registry = new ModelRegistry({ events });
  await registry.register(provider);
  const deps = { events, registry, queue: new RequestQueue() };
  return { deps, model: (id: string) => registry.resolve(id) };
}

function chunk(delta: ChatChunk['choices'][number]['delta'], finish: 'stop' | null = null): ChatChunk {
  return {
    id: 'c',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'raw',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

/** A provider streaming the given chunks with a pause before each. */
function pacedProvider(steps: { chunk: ChatChunk; afterMs: number }[]): ProviderV1 & { seen: CallOptions[] } {
  const seen: CallOptions[] = [];
  return {
    specificationVersion: 'v1',
    id: 'paced',
    seen,
    async models() {
      return [{ id: 'm' }];
    },
    async doChat() {
      throw new Error('unused');
    },
    async *doStream(_request, callOptions) {
      seen.push(callOptions);
      for (const step of steps) {
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, step.afterMs);
          callOptions.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(callOptions.signal.reason);
          });
        });
        yield step.chunk;
      }
    },
  };
}

describe('hasContent', () => {
  it('counts content, reasoning, tool calls and the finish; not a role-only or usage chunk', () => {
    expect(hasContent(chunk({ role: 'assistant' }))).toBe(false);
    expect(hasContent(chunk({ content: '' }))).toBe(false);
    expect(hasContent({ ...chunk({}), choices: [] })).toBe(false);
    expect(hasContent(chunk({ content: 'x' }))).toBe(true);
    expect(hasContent(chunk({ reasoning_content: 'hmm' }))).toBe(true);
    expect(hasContent(chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'f' } }] }))).toBe(true);
    expect(hasContent(chunk({}, 'stop'))).toBe(true);
  });
});

describe('callChat', () => {
  it('calls the provider in the same tick when a slot is free and the model needs no loading', async () => {
    const mock = createMockProvider({ id: 'p', models: [{ id: 'm' }] });
    const { deps, model } = await setup(mock);
    const answer = callChat(deps, model('p/m'), request, options());
    expect(mock.calls).toHaveLength(1);
    await answer;
    // A full queue still waits for its slot: the provider is called only once one is free.
    const queue = new RequestQueue({ concurrency: 1 });
    const waitingDeps = { ...deps, queue };
    const release = queue.tryAcquire('p/m')!;
    const waiting = callChat(waitingDeps, model('p/m'), request, options());
    expect(mock.calls).toHaveLength(1);
    release();
    await waiting;
    expect(mock.calls).toHaveLength(2);
  });

  it('sends call:headers hooks’ headers, in the same tick while the hooks answer synchronously', async () => {
    const mock = createMockProvider({ id: 'p', models: [{ id: 'm' }] });
    const { deps, model } = await setup(mock);
    const hooks = new HookRunner();
    hooks.add('call:headers', (headers, context) => ({ ...headers, traceparent: `for-${context.model}` }));
    const answer = callChat({ ...deps, hooks }, model('p/m'), request, options());
    expect(mock.calls).toHaveLength(1);
    await answer;
    expect(mock.calls[0]!.options.headers).toEqual({ traceparent: 'for-p/m' });
    // An asynchronous hook: the provider is called once it has answered, with every hook's headers.
    hooks.add('call:headers', async (headers) => ({ ...headers, 'x-later': '1' }));
    const later = callChat({ ...deps, hooks }, model('p/m'), request, options());
    expect(mock.calls).toHaveLength(1);
    await later;
    expect(mock.calls[1]!.options.headers).toEqual({ traceparent: 'for-p/m', 'x-later': '1' });
    expect(deps.queue.stats().models['p/m']).toMatchObject({ running: 0, completed: 2 });
    // A hook that throws fails the call and frees its slot.
    hooks.add('call:headers', () => {
      throw new Error('no headers');
    });
    await expect(callChat({ ...deps, hooks }, model('p/m'), request, options())).rejects.toThrow();
    expect(deps.queue.stats().models['p/m']).toMatchObject({ running: 0 });
    expect(model('p/m').inUse).toBe(0);
  });

  it('still ends at once when a provider that ignores its signal is aborted', async () => {
    const hanging: ProviderV1 = {
      specificationVersion: 'v1',
      id: 'h',
      async models() {
        return [{ id: 'm' }];
      },
      doChat: () => new Promise(() => {}),
      async *doStream() {},
    };
    const { deps, model } = await setup(hanging);
    const controller = new AbortController();
    const answer = callChat(deps, model('h/m'), request, options({ signal: controller.signal }));
    controller.abort();
    await expect(answer).rejects.toMatchObject({ code: 'aborted' });
  });

  it('passes the provider its own model id, the request id and a deadline', async () => {
    const mock = createMockProvider({ id: 'p', models: [{ id: 'm' }] });
    const { deps, model } = await setup(mock);
    const before = Date.now();
    await callChat(deps, model('p/m'), { ...request, model: 'p/m' }, options({ timeoutMs: 5000 }));
    const call = mock.calls[0]!;
    expect(call.request.model).toBe('m');
    expect(call.options.requestId).toBe('r-1');
    expect(call.options.deadline).toBeGreaterThanOrEqual(before + 5000);
    expect(call.options.signal).toBeInstanceOf(AbortSignal);
    expect(deps.queue.stats().models['p/m']).toMatchObject({ running: 0, completed: 1 });
    expect(model('p/m').inUse).toBe(0);
  });

  it('converts a provider’s throw once and emits provider:call:error', async () => {
    const mock = createMockProvider({
      id: 'p',
      models: [{ id: 'm', error: new Error('boom') } as MockModel],
    });
    const { deps, model } = await setup(mock);
    const names: FusionEventName[] = [];
    deps.events.on('provider:call:error', ({ error }) => names.push(error.code as FusionEventName));
    await expect(callChat(deps, model('p/m'), request, options())).rejects.toMatchObject({
      code: 'internal_error',
    });
    expect(names).toEqual(['internal_error']);
    expect(deps.queue.stats().running).toBe(0);
  });
});

describe('callStream', () => {
  it('does not let role-only chunks reset the first-token clock', async () => {
    const provider = pacedProvider([
      { chunk: chunk({ role: 'assistant' }), afterMs: 30 },
      { chunk: chunk({ role: 'assistant' }), afterMs: 30 },
      { chunk: chunk({ role: 'assistant' }), afterMs: 30 },
      { chunk: chunk({ content: 'late' }), afterMs: 30 },
    ]);
    const { deps, model } = await setup(provider);
    const seen: ChatChunk[] = [];
    const run = async () => {
      for await (const item of callStream(
        deps,
        model('paced/m'),
        request,
        options({ firstTokenTimeoutMs: 75 }),
      )) {
        seen.push(item);
      }
    };
    await expect(run()).rejects.toMatchObject({ status: 504, code: 'timeout_first_token' });
    expect(seen.every((item) => !hasContent(item))).toBe(true);
    expect(provider.seen[0]?.signal.aborted).toBe(true);
  });

  it('applies the idle limit between chunks, however long the first-token limit is', async () => {
    const provider = pacedProvider([
      { chunk: chunk({ content: 'a' }), afterMs: 0 },
      { chunk: chunk({ content: 'b' }), afterMs: 10 },
      { chunk: chunk({ content: 'c' }), afterMs: 400 },
    ]);
    const { deps, model } = await setup(provider);
    const seen: string[] = [];
    const startedAt = Date.now();
    const run = async () => {
      const stream = callStream(
        deps,
        model('paced/m'),
        request,
        options({ firstTokenTimeoutMs: 60_000, idleTimeoutMs: 100 }),
      );
      for await (const item of stream) seen.push(item.choices[0]?.delta.content ?? '');
    };
    await expect(run()).rejects.toMatchObject({ status: 504, code: 'timeout_idle' });
    expect(seen).toEqual(['a', 'b']);
    expect(Date.now() - startedAt).toBeLessThan(400);
  });

  it('sets the served model id on chunks and reports first-token time and usage', async () => {
    const mock = createMockProvider({ id: 'p', models: [{ id: 'm', reply: 'x y' }] });
    const { deps, model } = await setup(mock);
    const ends: unknown[] = [];
    deps.events.on('provider:call:end', (event) => ends.push(event));
    const chunks: ChatChunk[] = [];
    for await (const item of callStream(deps, model('p/m'), request, options())) chunks.push(item);
    expect(chunks.every((item) => item.model === 'p/m')).toBe(true);
    expect(ends).toEqual([
      expect.objectContaining({
        stream: true,
        firstTokenMs: expect.any(Number),
        usage: expect.objectContaining({ completion_tokens: 2 }),
      }),
    ]);
    expect(mock.calls[0]?.options.firstTokenDeadline).toBeTypeOf('number');
  });

  it('aborts the upstream when the consumer stops early', async () => {
    const mock = createMockProvider({ id: 'p', models: [{ id: 'm', reply: 'a b c d' }] });
    const { deps, model } = await setup(mock);
    for await (const item of callStream(deps, model('p/m'), request, options())) {
      if (hasContent(item)) break;
    }
    expect(mock.aborted).toEqual(['r-1']);
    expect(deps.queue.stats().running).toBe(0);
  });
});

describe('callEmbed', () => {
  it('asks the provider for floats with its own model id', async () => {
    const mock = createMockProvider({ id: 'p', models: [{ id: 'e', capabilities: { embeddings: true } }] });
    const { deps, model } = await setup(mock);
    const result = await callEmbed(
      deps,
      model('p/e'),
      { model: 'p/e', input: 'x', encoding_format: 'base64' },
      options(),
    );
    expect(result.data[0]?.embedding).toBeInstanceOf(Array);
    expect(mock.calls[0]?.request).toEqual({ model: 'e', input: 'x' });
  });
});

describe('callStream and a provider that ignores its signal', () => {
  it('stops at once when the signal aborts while the consumer holds a chunk', async () => {
    let produced = 0;
    const deaf: ProviderV1 = {
      specificationVersion: 'v1',
      id: 'deaf',
      async models() {
        return [{ id: 'm' }];
      },
      async doChat() {
        throw new Error('unused');
      },
      async *doStream() {
        // Never looks at its signal.
        for (let index = 0; index < 100; index++) {
          produced++;
          yield chunk({ content: `t${index}` });
        }
      },
    };
    const { deps, model } = await setup(deaf);
    const controller = new AbortController();
    const stream = callStream(deps, model('deaf/m'), request, options({ signal: controller.signal }));
    const first = await stream.next();
    expect(first.value?.choices[0]?.delta.content).toBe('t0');
    controller.abort();
    await expect(stream.next()).rejects.toMatchObject({ code: 'aborted' });
    expect(produced).toBe(1);
    expect(deps.queue.stats().running).toBe(0);
  });
});
