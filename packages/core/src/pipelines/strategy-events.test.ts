import { afterEach, describe, expect, it } from 'vitest';
import { createFusion, type Fusion } from '../fusion/fusion.js';
import type { FusionStrategyV1 } from '../spec/strategy/v1/fusion-strategy-v1.js';
import { createMockProvider } from '../test/mock-provider.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

describe("a strategy's own events", () => {
  it('reach the event bus as strategy:event, typed without a cast', async () => {
    const firstAnswer: FusionStrategyV1 = {
      specificationVersion: 'v1',
      name: 'first-answer',
      async doChat(context) {
        const target = context.targets[0]!;
        context.emit?.({ type: 'custom', name: 'pick', data: { target: target.model } });
        return context.call(target, context.request);
      },
    };
    fusion = createFusion({
      healthIntervalMs: 0,
      providers: [createMockProvider({ id: 'mock', models: [{ id: 'echo' }] })],
      pipelines: [{ name: 'fusion/first', strategy: firstAnswer, targets: ['mock/echo'] }],
    });
    const seen: unknown[] = [];
    fusion.events.on('strategy:event', (event) => seen.push(event));
    await fusion.chat(
      { model: 'fusion/first', messages: [{ role: 'user', content: 'Hi' }] },
      { requestId: 'req-1' },
    );
    expect(seen).toEqual([
      { requestId: 'req-1', strategy: 'first-answer', name: 'pick', data: { target: 'mock/echo' } },
    ]);
  });
});
