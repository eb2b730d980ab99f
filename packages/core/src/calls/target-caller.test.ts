import { describe, expect, it } from 'vitest';
import { EventBus } from '../events/event-bus.js';
import { RequestQueue } from '../queue/request-queue.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { Budget } from '../resilience/budget.js';
import { TargetHealth } from '../resilience/target-health.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { FusionTrace } from '../spec/strategy/v1/fusion-trace.js';
import { createMockProvider } from '../test/mock-provider.js';
import { createTargetCallers } from './target-caller.js';

const request: ChatRequest = { model: 'ignored', messages: [{ role: 'user', content: 'hi' }] };

async function setup(
  options: { queue?: ConstructorParameters<typeof RequestQueue>[0]; delayMs?: number } = {},
) {
  const events = new EventBus();
  const registry = new ModelRegistry({ events });
  await registry.register(
    createMockProvider({
      id: 'm',
      models: [{ id: 'a', reply: 'one two three', delayMs: options.delayMs ?? 0 }],
    }),
  );
  const deps = { events, registry, queue: new RequestQueue(options.queue) };
  // One failure opens the circuit; the cooldown is over at once, so the next call is the probe.
  const health = new TargetHealth(events, {
    breaker: { consecutiveFailures: 1, cooldownMs: 0 },
    retry: { maxRetries: 0 },
  });
  const trace: FusionTrace = { id: 't', requestId: 'r', model: 'p', strategy: 's', startedAt: 0, calls: [] };
  const callers = createTargetCallers({
    deps,
    health,
    call: {
      signal: new AbortController().signal,
      requestId: 'r',
      timeoutMs: 10_000,
      firstTokenTimeoutMs: 10_000,
      idleTimeoutMs: 10_000,
    },
    trace,
    budget: new Budget({ maxCalls: 10 }),
  });
  return { ...callers, health, trace };
}

describe('target calls and the circuit breaker', () => {
  it('gives the half-open probe back when the stream is dropped after its first chunk', async () => {
    const { stream, health, trace } = await setup();
    health.breaker('m/a').onFailure();
    expect(health.circuit('m/a')).toBe('half-open');
    const chunks = stream({ model: 'm/a' }, request)[Symbol.asyncIterator]();
    await chunks.next();
    await chunks.return?.();
    expect(trace.calls[0]?.outcome).toBe('aborted');
    // The next caller may probe again.
    expect(health.breaker('m/a').tryPass()).toBe(true);
  });

  it("does not blame the target when this orchestrator's own queue is full", async () => {
    const { call, health, trace } = await setup({
      queue: { perModelConcurrency: 1, perModelMaxWaiting: 0 },
      delayMs: 50,
    });
    const first = call({ model: 'm/a' }, request);
    await expect(call({ model: 'm/a' }, request)).rejects.toMatchObject({ code: 'queue_full', status: 429 });
    expect(health.circuit('m/a')).toBe('closed');
    await expect(first).resolves.toMatchObject({ object: 'chat.completion' });
    expect(trace.calls.map((entry) => entry.outcome)).toEqual(['ok', 'error']);
  });
});
