import { afterEach, describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { UpstreamError } from '../errors/upstream-error.js';
import { createFusion, type Fusion } from '../fusion/fusion.js';
import type { FusionOptions } from '../fusion/fusion-options.js';
import { createMockProvider, type MockModel } from '../test/mock-provider.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 100 });
  fusion = undefined;
});

const fast: FusionOptions['resilience'] = {
  retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
  breaker: { consecutiveFailures: 3, cooldownMs: 60_000 },
};

async function start(models: MockModel[], resilience: FusionOptions['resilience'] = fast) {
  const mock = createMockProvider({ id: 'mock', models });
  fusion = createFusion({ healthIntervalMs: 0, resilience, providers: [mock] });
  await fusion.ready;
  return { fusion, mock };
}

const chat = { model: 'mock/bad', messages: [{ role: 'user' as const, content: 'Hi' }] };

describe('the default policy of a model called by name', () => {
  it('retries embeddings too, then opens the circuit', async () => {
    const { fusion, mock } = await start([
      { id: 'bad', capabilities: { embeddings: true }, error: new UpstreamError('down', { status: 502 }) },
    ]);
    await expect(fusion.embed({ model: 'mock/bad', input: 'x' })).rejects.toMatchObject({ status: 502 });
    expect(mock.calls.filter((call) => call.kind === 'embed')).toHaveLength(3);
    await expect(fusion.embed({ model: 'mock/bad', input: 'x' })).rejects.toMatchObject({
      code: 'circuit_open',
      status: 503,
    });
    expect(mock.calls).toHaveLength(3);
  });

  it('answers with the failure that opened the circuit, not with circuit_open', async () => {
    const { fusion, mock } = await start([{ id: 'bad', error: new UpstreamError('down', { status: 502 }) }], {
      ...fast,
      breaker: { consecutiveFailures: 2, cooldownMs: 60_000 },
    });
    await expect(fusion.chat(chat)).rejects.toMatchObject({ status: 502, message: 'down' });
    expect(mock.calls).toHaveLength(2);
    await expect(fusion.chat(chat)).rejects.toMatchObject({ code: 'circuit_open' });
  });

  it('does not retry or blame the target for a request the client must fix', async () => {
    const { fusion, mock } = await start([{ id: 'bad', error: new InvalidRequestError('too long') }]);
    for (let index = 0; index < 4; index++)
      await expect(fusion.chat(chat)).rejects.toMatchObject({ status: 400 });
    expect(mock.calls).toHaveLength(4);
    expect(fusion.targetHealth.circuit('mock/bad')).toBe('closed');
  });

  it('records the latency of non-streamed calls for the latency router', async () => {
    const { fusion } = await start([{ id: 'good', delayMs: 5 }]);
    await fusion.chat({ ...chat, model: 'mock/good' });
    expect(fusion.targetHealth.latency.get('mock/good').totalMs).toBeGreaterThan(0);
  });

  it('is off with resilience: false: one attempt, no circuit', async () => {
    const { fusion, mock } = await start(
      [{ id: 'bad', error: new UpstreamError('down', { status: 502 }) }],
      false,
    );
    for (let index = 0; index < 5; index++)
      await expect(fusion.chat(chat)).rejects.toMatchObject({ status: 502 });
    expect(mock.calls).toHaveLength(5);
    expect(fusion.targetHealth.circuit('mock/bad')).toBe('closed');
  });
});
