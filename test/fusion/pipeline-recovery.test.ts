/**
 * Pipelines that must recover and account correctly, through real HTTP: a recovered primary of a
 * fallback is probed and gets its traffic back; an all-open pipeline says when to come back; a
 * failed fused request names its trace; a token budget holds against parallel calls; the latency
 * router learns from non-streamed calls; a streamed mixture-of-agents reports the usage of all calls.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type FusionStack,
  type FusionStackOptions,
  PROVIDER,
  postChat,
  sseEvents,
  startFusionStack,
  streamedText,
  USER_MESSAGE,
} from './fusion-stack.js';

const REPLY = 'The answer is 42.';

let stack: FusionStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function start(options: FusionStackOptions): Promise<FusionStack> {
  stack = await startFusionStack({ ...options, upstream: { reply: REPLY, ...options.upstream } });
  return stack;
}

const model = (id: string) => `${PROVIDER}/${id}`;

interface TraceBody {
  id: string;
  partial?: boolean;
  calls: { target: string; outcome: string; usage?: { total_tokens: number } }[];
}

async function traceOf(url: string, id: string | null): Promise<TraceBody> {
  expect(id).toBeTruthy();
  const response = await fetch(`${url}/api/fusion/traces/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as TraceBody;
}

describe('a fallback whose primary recovers', () => {
  it('probes the half-open primary and sends the traffic back to it', async () => {
    const { url, upstream, fusion } = await start({
      // Fails twice (one request: an attempt and its retry), then recovers.
      upstream: { models: { primary: { fault: 'status-500', times: 2 } } },
      fusion: {
        resilience: {
          retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 5 },
          breaker: { consecutiveFailures: 2, cooldownMs: 200 },
        },
        pipelines: [
          { name: 'fusion/fallback', strategy: 'fallback', targets: [model('primary'), model('steady')] },
        ],
      },
    });
    expect((await postChat(url, { model: 'fusion/fallback' })).status).toBe(200);
    expect(fusion.targetHealth.circuit(model('primary'))).toBe('open');
    expect(upstream.chatRequests('steady')).toHaveLength(1);

    await vi.waitFor(() => expect(fusion.targetHealth.circuit(model('primary'))).toBe('half-open'), {
      timeout: 5000,
      interval: 20,
    });
    for (let index = 0; index < 3; index++) {
      expect((await postChat(url, { model: 'fusion/fallback' })).status).toBe(200);
    }
    // The probe went to the primary, it answered, the circuit closed, and the traffic came back.
    expect(fusion.targetHealth.circuit(model('primary'))).toBe('closed');
    expect(upstream.chatRequests('primary')).toHaveLength(2 + 3);
    expect(upstream.chatRequests('steady')).toHaveLength(1);
  });
});

describe('a pipeline whose every circuit is open', () => {
  it("answers 503 with the cooldown really left as Retry-After, and the failed requests' trace ids", async () => {
    const cooldownMs = 6000;
    const { url } = await start({
      upstream: { models: { down: 'status-500' } },
      fusion: {
        resilience: {
          retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 5 },
          breaker: { consecutiveFailures: 2, cooldownMs },
        },
        pipelines: [{ name: 'fusion/down', strategy: 'fallback', targets: [model('down')] }],
      },
    });
    const failed = await postChat(url, { model: 'fusion/down' });
    expect(failed.status).toBe(502);
    const trace = await traceOf(url, failed.headers.get('x-fusion-trace-id'));
    expect(trace.calls).toEqual([expect.objectContaining({ target: model('down'), outcome: 'error' })]);

    for (const stream of [false, true]) {
      const refused = await postChat(url, { model: 'fusion/down', stream });
      expect(refused.status).toBe(503);
      const retryAfter = Number(refused.headers.get('retry-after'));
      // Most of the 6 s are left (generous for a busy machine), not a flat 1.
      expect(retryAfter).toBeGreaterThanOrEqual(3);
      expect(retryAfter).toBeLessThanOrEqual(cooldownMs / 1000);
      await traceOf(url, refused.headers.get('x-fusion-trace-id'));
    }
  });

  it('names the trace of a failed stream and of a failed /api/fusion/chat', async () => {
    const { url } = await start({
      upstream: { models: { broken: 'status-500' } },
      fusion: {
        resilience: { retry: false },
        pipelines: [{ name: 'fusion/broken', strategy: 'fallback', targets: [model('broken')] }],
      },
    });
    const streamed = await postChat(url, { model: 'fusion/broken', stream: true });
    expect(streamed.status).toBe(502);
    const trace = await traceOf(url, streamed.headers.get('x-fusion-trace-id'));
    expect(trace.calls.map((call) => call.outcome)).toEqual(['error']);

    const inline = await fetch(`${url}/api/fusion/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ strategy: 'single', targets: [model('broken')], messages: [USER_MESSAGE] }),
    });
    expect(inline.status).toBe(502);
    await traceOf(url, inline.headers.get('x-fusion-trace-id'));
  });
});

describe('a token budget', () => {
  it('is not overrun by parallel calls: a vote of 5 against a budget of 20 tokens stops early, partial', async () => {
    const { url, upstream } = await start({
      fusion: {
        pipelines: [
          {
            name: 'fusion/vote',
            strategy: 'vote',
            options: { samples: 5, earlyStop: false },
            targets: [model('steady')],
            limits: { maxTokens: 20 },
          },
        ],
      },
    });
    for (const stream of [false, true]) {
      upstream.reset();
      const response = await postChat(url, { model: 'fusion/vote', stream });
      expect(response.status).toBe(200);
      const body = stream
        ? ((await sseEvents(response)).at(-2) as { fusion: { trace_id: string; partial: boolean } })
        : ((await response.json()) as { fusion: { trace_id: string; partial: boolean } });
      expect(body.fusion.partial).toBe(true);
      // What the upstream really answered stays within the budget.
      const spent = upstream
        .chatRequests()
        .reduce((sum, request) => sum + (request.usage?.total_tokens ?? 0), 0);
      expect(spent).toBeGreaterThan(0);
      expect(spent).toBeLessThanOrEqual(20);
      // Every call that went out was told how much it may write.
      for (const request of upstream.chatRequests()) {
        expect((request.body as { max_tokens?: number }).max_tokens).toBeLessThanOrEqual(20);
      }
    }
  });
});

describe('the latency router', () => {
  it('learns from non-streamed calls and keeps re-measuring the target it left', async () => {
    const { url, upstream } = await start({
      upstream: { models: { slow: 'first-token-delay-ms=400' } },
      fusion: {
        pipelines: [{ name: 'fusion/fastest', router: 'latency', targets: [model('slow'), model('steady')] }],
      },
    });
    for (let index = 0; index < 24; index++) {
      expect((await postChat(url, { model: 'fusion/fastest' })).status).toBe(200);
    }
    const slow = upstream.chatRequests('slow').length;
    const steady = upstream.chatRequests('steady').length;
    // Measured, then left for the faster one, yet tried again now and then.
    expect(steady).toBeGreaterThanOrEqual(18);
    expect(slow).toBeGreaterThanOrEqual(2);
  });
});

describe('a streamed mixture-of-agents', () => {
  it('reports the usage of every call, as the non-streamed answer does', async () => {
    const { url, client } = await start({
      fusion: {
        pipelines: [
          {
            name: 'fusion/moa',
            strategy: 'mixture-of-agents',
            targets: [model('steady'), model('steady')],
          },
        ],
      },
    });
    const whole = await client.chat.completions.create({ model: 'fusion/moa', messages: [USER_MESSAGE] });
    const stream = await client.chat.completions.create({
      model: 'fusion/moa',
      messages: [USER_MESSAGE],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: { total_tokens: number } | undefined | null;
    let text = '';
    for await (const chunk of stream) {
      usage = chunk.usage ?? usage;
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe(REPLY);
    expect(whole.usage?.total_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe(whole.usage?.total_tokens);
    const events = await sseEvents(await postChat(url, { model: 'fusion/moa', stream: true }));
    expect(streamedText(events)).toBe(REPLY);
  });
});
