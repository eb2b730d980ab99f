/**
 * Retries and circuit breakers through real HTTP: the breaker opens after N failures (visible in
 * `/health`) and recovers after its cooldown; a 429's `Retry-After` is honoured; a client that goes
 * away during a backoff stops the retries. The event bus reports each step.
 */
import type { FusionEventName } from '@fusionkit/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FusionStack, payloadsOf, postChat, startFusionStack } from './fusion-stack.js';

const COOLDOWN_MS = 300;

let stack: FusionStack;
beforeAll(async () => {
  stack = await startFusionStack({
    upstream: {
      models: {
        flaky: { fault: 'status-500', times: 2 },
        busy: { fault: 'status-429; retry-after=1', times: 1 },
        down: 'status-503; retry-after=1',
        once: { fault: 'status-500', times: 1 },
      },
    },
    record: [
      'route:choose',
      'call:attempt',
      'call:retry',
      'breaker:open',
      'breaker:half-open',
      'breaker:close',
    ],
    fusion: {
      resilience: {
        breaker: { consecutiveFailures: 2, cooldownMs: COOLDOWN_MS },
        retry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 50 },
      },
      pipelines: [
        { name: 'fusion/flaky', targets: ['faults/flaky'] },
        { name: 'fusion/busy', targets: ['faults/busy'] },
        { name: 'fusion/down', targets: ['faults/down'] },
        { name: 'fusion/capped', targets: ['faults/once'], limits: { maxCalls: 1 } },
      ],
    },
  });
});
afterAll(() => stack?.close());

async function circuitOf(model: string): Promise<string> {
  const report = (await (await fetch(`${stack.url}/health`)).json()) as {
    models: Record<string, { circuit: string }>;
  };
  return report.models[model]!.circuit;
}

function eventNames(): FusionEventName[] {
  return stack.events.map((event) => event.name);
}

describe('circuit breaker', () => {
  it('opens after 2 consecutive failures, refuses at once while open, and recovers after the cooldown', async () => {
    expect(await circuitOf('faults/flaky')).toBe('closed');

    // Attempt 1 fails, the retry fails: the circuit opens and the third attempt is refused.
    const failed = await postChat(stack.url, { model: 'fusion/flaky' });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(stack.upstream.chatRequests('flaky')).toHaveLength(2);
    expect(await circuitOf('faults/flaky')).toBe('open');
    expect(eventNames()).toContain('breaker:open');

    // While open, the router has nothing to route to: 503 without touching the upstream.
    const refused = await postChat(stack.url, { model: 'fusion/flaky' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(stack.upstream.chatRequests('flaky')).toHaveLength(2);

    // After the cooldown one probe goes through; the upstream has recovered, so the circuit closes.
    await vi.waitFor(async () => expect(await circuitOf('faults/flaky')).toBe('half-open'), {
      timeout: COOLDOWN_MS * 10,
      interval: 50,
    });
    const recovered = await postChat(stack.url, { model: 'fusion/flaky' });
    expect(recovered.status).toBe(200);
    expect(stack.upstream.chatRequests('flaky')).toHaveLength(3);
    expect(await circuitOf('faults/flaky')).toBe('closed');

    const names = eventNames();
    expect(names.indexOf('breaker:open')).toBeLessThan(names.indexOf('breaker:half-open'));
    expect(names.indexOf('breaker:half-open')).toBeLessThan(names.indexOf('breaker:close'));
    const breakerEvents = stack.events.filter((event) => event.name.startsWith('breaker:'));
    expect(
      breakerEvents.every((event) => (event.payload as { model: string }).model === 'faults/flaky'),
    ).toBe(true);
  });

  it("does not count a call the pipeline's budget refused against the target", async () => {
    // One real failure, then the retry is refused by the budget of 1 call: the target failed once only.
    const response = await postChat(stack.url, { model: 'fusion/capped' });
    // The client learns what went wrong (the upstream's 500, as a 502), not the budget's 429.
    expect(response.status).toBe(502);
    expect(stack.upstream.chatRequests('once')).toHaveLength(1);
    expect(await circuitOf('faults/once')).toBe('closed');
    expect((await postChat(stack.url, { model: 'fusion/capped' })).status).toBe(200);
  });
});

describe('retries', () => {
  it("waits for a 429's Retry-After before the next attempt", async () => {
    const response = await postChat(
      stack.url,
      { model: 'fusion/busy' },
      { headers: { 'x-request-id': 'busy-1' } },
    );
    expect(response.status).toBe(200);
    const [first, second] = stack.upstream.chatRequests('busy');
    expect(second).toBeDefined();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);

    const [retry] = payloadsOf(stack, 'call:retry', 'busy-1');
    expect(retry).toMatchObject({ target: 'faults/busy', attempt: 1 });
    expect(retry!.delayMs).toBeGreaterThanOrEqual(1000);
    expect(payloadsOf(stack, 'call:attempt', 'busy-1').map((attempt) => attempt.attempt)).toEqual([1, 2]);
    expect(payloadsOf(stack, 'route:choose', 'busy-1')).toEqual([
      expect.objectContaining({ pipeline: 'fusion/busy', router: 'explicit', targets: ['faults/busy'] }),
    ]);

    const trace = (await (
      await fetch(`${stack.url}/api/fusion/traces/${response.headers.get('x-fusion-trace-id')}`)
    ).json()) as { calls: { retries: number; outcome: string }[] };
    expect(trace.calls).toEqual([expect.objectContaining({ retries: 1, outcome: 'ok' })]);
  });

  it('stops retrying when the client disconnects during the backoff', async () => {
    const client = new AbortController();
    const pending = postChat(
      stack.url,
      { model: 'fusion/down' },
      { headers: { 'x-request-id': 'down-1' }, signal: client.signal },
    ).catch((error: unknown) => error);
    // The first attempt got its 503 with Retry-After: 1; the orchestrator is now waiting.
    await vi.waitFor(() => expect(payloadsOf(stack, 'call:retry', 'down-1')).toHaveLength(1));
    const firstAt = stack.upstream.chatRequests('down')[0]!.at;
    client.abort();
    expect(await pending).toBeInstanceOf(Error);
    // Past the Retry-After, with margin: no further attempt ever arrived.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstAt + 1600 - Date.now())));
    expect(stack.upstream.chatRequests('down')).toHaveLength(1);
    expect(payloadsOf(stack, 'call:attempt', 'down-1')).toHaveLength(1);
  });
});
