import { describe, expect, it } from 'vitest';
import { createFusion } from '../fusion/fusion.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';

function provider(
  chunks: () => AsyncIterable<ChatChunk>,
  load?: (signal?: AbortSignal) => Promise<void>,
): ProviderV1 {
  return {
    specificationVersion: 'v1',
    id: 'p',
    models: async () => [
      { id: 'm', object: 'model', created: 1, owned_by: 'test', capabilities: { chat: true }, loaded: !load },
    ],
    doChat: async () => {
      throw new Error('not used');
    },
    doStream: () => chunks(),
    health: async () => ({ status: 'ready' }),
    ...(load ? { load: (_model: string, options?: { signal?: AbortSignal }) => load(options?.signal) } : {}),
  } as ProviderV1;
}

const request = { model: 'p/m', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('a streamed model call', () => {
  it('fails the call, not the process, on a chunk it cannot read', async () => {
    const fusion = createFusion({
      providers: [
        provider(async function* () {
          // No `choices`: reading it throws inside the call path.
          yield { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm' } as unknown as ChatChunk;
        }),
      ],
      healthIntervalMs: 0,
      resilience: false,
    });
    await expect(async () => {
      for await (const _ of fusion.stream(request));
    }).rejects.toThrow();
    // The call gave its slot back.
    expect(fusion.queueStats().running).toBe(0);
    await fusion.close();
  });

  it('gives the model and the queue slot back when returned while the model loads', async () => {
    let finishLoad: () => void = () => {};
    const loading = new Promise<void>((resolve) => {
      finishLoad = resolve;
    });
    const fusion = createFusion({
      providers: [
        provider(
          async function* () {
            yield { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [] };
          },
          // A load that ignores the signal, as a load others already wait for does.
          () => loading,
        ),
      ],
      healthIntervalMs: 0,
      resilience: false,
    });
    await fusion.ready;
    const model = fusion.registry.resolve('p/m');
    // A load already under way: the stream's call joins it, and joining does not watch its signal.
    const loaded = fusion.registry.load(model);
    const stream = fusion.stream(request);
    const pending = stream.next().catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await stream.return();
    finishLoad();
    await loaded;
    await pending;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(model.inUse).toBe(0);
    expect(fusion.queueStats().running).toBe(0);
    await fusion.close();
  });
});
