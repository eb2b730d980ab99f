import { afterEach, describe, expect, it } from 'vitest';
import { post } from '../../__fixtures__/http.js';
import { UnavailableError } from '../../errors/unavailable-error.js';
import type { FusionEvents } from '../../events/fusion-events.js';
import { createFusion, type Fusion } from '../../fusion/fusion.js';
import type { FusionOptions } from '../../fusion/fusion-options.js';
import type { ProviderV1 } from '../../spec/provider/v1/provider-v1.js';
import { createMockProvider } from '../../test/mock-provider.js';

const MODEL = 'mock/echo';
const encoder = new TextEncoder();
const event = (type: string, extra: Record<string, unknown> = {}) =>
  encoder.encode(`event: ${type}\ndata: ${JSON.stringify({ type, ...extra })}\n\n`);
const COMPLETED = {
  response: {
    id: 'resp_up',
    status: 'completed',
    usage: { input_tokens: 2, output_tokens: 2, total_tokens: 4 },
  },
};

/** An upstream serving the Responses API itself, whose streams the test writes (and sees cancelled). */
function upstreamServingResponses(options: { failFirst?: boolean } = {}) {
  const streams: { controller: ReadableStreamDefaultController<Uint8Array>; cancelled: boolean }[] = [];
  let calls = 0;
  const provider: ProviderV1 = {
    ...createMockProvider(),
    async doResponses(body) {
      calls++;
      if (options.failFirst && calls === 1) throw new UnavailableError('The upstream is restarting.');
      if (body.stream !== true) return Response.json({ id: 'resp_up', status: 'completed', output: [] });
      const entry = {
        controller: undefined as unknown as ReadableStreamDefaultController<Uint8Array>,
        cancelled: false,
      };
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          entry.controller = controller;
          controller.enqueue(
            event('response.created', { response: { id: 'resp_up', status: 'in_progress' } }),
          );
        },
        cancel() {
          entry.cancelled = true;
        },
      });
      streams.push(entry);
      return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
    },
  };
  return { provider, streams, calls: () => calls };
}

const started: Fusion[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((fusion) => fusion.close({ timeoutMs: 100 })));
});

async function start(provider: ProviderV1, options: FusionOptions = {}): Promise<Fusion> {
  const fusion = createFusion({ healthIntervalMs: 0, providers: [provider], ...options });
  started.push(fusion);
  await fusion.ready;
  return fusion;
}

const ask = (fusion: Fusion, stream = true) =>
  post(fusion, '/v1/responses', { model: MODEL, input: 'Hi', stream });

describe('the Responses pass-through as a call', () => {
  it('holds its queue slot until the answer ends: one more is refused meanwhile, then let in', async () => {
    const upstream = upstreamServingResponses();
    const fusion = await start(upstream.provider, {
      queue: { perModelConcurrency: 1, perModelMaxWaiting: 0 },
    });
    const first = await ask(fusion);
    expect(first.status).toBe(200);
    const refused = await ask(fusion);
    expect(refused.status).toBe(429);
    expect(upstream.calls()).toBe(1);

    upstream.streams[0]!.controller.enqueue(event('response.output_text.delta', { delta: 'Hello' }));
    upstream.streams[0]!.controller.enqueue(event('response.completed', COMPLETED));
    upstream.streams[0]!.controller.close();
    const text = await first.text();
    expect(text).toContain('"response.created"');
    expect(text).toContain('"response.completed"');
    expect((await ask(fusion, false)).status).toBe(200);
  });

  it('aborts a stream stalled past its first-token limit, and lets the upstream go', async () => {
    const upstream = upstreamServingResponses();
    const fusion = await start(upstream.provider, { firstTokenTimeoutMs: 300, idleTimeoutMs: 300 });
    const errors: FusionEvents['provider:call:error'][] = [];
    fusion.events.on('provider:call:error', (error) => errors.push(error));
    const response = await ask(fusion);
    expect(response.status).toBe(200);
    // The stream fails instead of hanging; the upstream's body is cancelled.
    await expect(response.text()).rejects.toThrow();
    expect(upstream.streams[0]!.cancelled).toBe(true);
    expect(errors.map((error) => error.error.code)).toEqual(['timeout_first_token']);
  });

  it('gives the slot back when the client cancels the stream', async () => {
    const upstream = upstreamServingResponses();
    const fusion = await start(upstream.provider, {
      queue: { perModelConcurrency: 1, perModelMaxWaiting: 0 },
    });
    const first = await ask(fusion);
    const reader = first.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('response.created');
    await reader.cancel();
    expect(upstream.streams[0]!.cancelled).toBe(true);
    const next = await ask(fusion, false);
    expect(next.status).toBe(200);
    await next.text();
    expect(fusion.inFlight).toBe(0);
  });

  it('retries an upstream that failed before answering, as chat calls are', async () => {
    const upstream = upstreamServingResponses({ failFirst: true });
    const fusion = await start(upstream.provider, { resilience: { retry: { baseDelayMs: 1 } } });
    const response = await ask(fusion, false);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 'resp_up' });
    expect(upstream.calls()).toBe(2);
  });
});
