/** The strategy and router of docs/plugins.md, run as the guide says to test them. */
import { afterEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../errors/unavailable-error.js';
import { createFusion, type Fusion } from '../fusion/fusion.js';
import type { RouterV1 } from '../spec/router/v1/router-v1.js';
import type { FusionStrategyV1 } from '../spec/strategy/v1/fusion-strategy-v1.js';
import { createMockProvider } from '../test/mock-provider.js';

const firstNonEmpty: FusionStrategyV1 = {
  specificationVersion: 'v1',
  name: 'first-non-empty',
  description: 'Tries targets in order until one answers with text; streams by answering first.',
  async doChat(context) {
    const tried: string[] = [];
    let lastError: unknown;
    for (const target of context.targets) {
      tried.push(target.model);
      try {
        const answer = await context.call(target, context.request, { role: 'candidate' });
        if (answer.choices[0]?.message.content) {
          context.trace.decision = { strategy: 'first-non-empty', tried, chosen: target.model };
          return answer;
        }
      } catch (error) {
        if (context.callOptions.signal.aborted) throw error;
        lastError = error;
      }
    }
    context.trace.decision = { strategy: 'first-non-empty', tried };
    throw lastError ?? new UnavailableError('No target answered with text.');
  },
};

const shortestQueue: RouterV1 = {
  specificationVersion: 'v1',
  name: 'shortest-queue',
  doRoute({ candidates }) {
    return candidates
      .filter((candidate) => candidate.healthy && candidate.circuit !== 'open')
      .sort((a, b) => a.queued + a.upstreamQueueDepth - (b.queued + b.upstreamQueueDepth))
      .map((candidate) => ({ model: candidate.model }));
  },
};

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'Hi' }] });

describe('docs/plugins.md', () => {
  it('the strategy skips an empty answer, records its decision, and fails with 503 when no target has text', async () => {
    fusion = createFusion({
      healthIntervalMs: 0,
      providers: [
        createMockProvider({ id: 'a', models: [{ id: 'm', reply: '' }] }),
        createMockProvider({ id: 'b', models: [{ id: 'm', reply: 'Hello.' }] }),
      ],
      pipelines: [
        { name: 'fusion/first', strategy: firstNonEmpty, router: shortestQueue, targets: ['a/m', 'b/m'] },
        { name: 'fusion/none', strategy: firstNonEmpty, targets: ['a/m'] },
      ],
    });
    let decision: unknown;
    const answer = await fusion.chat(hello('fusion/first'), {
      onTrace: (trace) => {
        decision = trace;
      },
    });
    expect(answer.choices[0]?.message.content).toBe('Hello.');
    expect((decision as { decision?: unknown }).decision).toEqual({
      strategy: 'first-non-empty',
      tried: ['a/m', 'b/m'],
      chosen: 'b/m',
    });
    await expect(fusion.chat(hello('fusion/none'))).rejects.toMatchObject({
      status: 503,
      message: 'No target answered with text.',
    });
  });
});
