/**
 * `/metrics` through real HTTP: a real server on port 0 with the metrics subscriber mounted, real
 * requests from the official client, and the exposition read by a strict parser before and after.
 */
import { createFusionMetrics, metricsRoute } from '@fusionkit/observability';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FusionStack, postChat, startFusionStack, USER_MESSAGE } from '../fusion/fusion-stack.js';
import { type MetricFamily, parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

let stack: FusionStack;
beforeAll(async () => {
  stack = await startFusionStack({
    upstream: {
      models: {
        flaky: { fault: 'status-500', times: 1 },
        slow: 'first-token-delay-ms=1500',
        quick: {},
        broken: 'status-400',
        single: 'first-token-delay-ms=200',
      },
    },
    fusion: {
      queue: { models: { 'faults/single': 1 } },
      resilience: { retry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 50 } },
      pipelines: [
        { name: 'fusion/flaky', targets: ['faults/flaky'] },
        { name: 'fusion/broken', targets: ['faults/broken'] },
        {
          name: 'fusion/hedged',
          strategy: 'race',
          options: { hedgeDelayMs: 100 },
          targets: ['faults/slow', 'faults/quick'],
        },
      ],
    },
  });
  const metrics = createFusionMetrics(stack.fusion);
  stack.fusion.route('GET', '/metrics', metricsRoute(metrics));
});
afterAll(() => stack?.close());

async function scrape(): Promise<Map<string, MetricFamily>> {
  const response = await fetch(`${stack.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

describe('GET /metrics', () => {
  it('serves a valid exposition whose counters move with real requests', async () => {
    const before = await scrape();
    const chat = { route: '/v1/chat/completions', model: 'faults/steady' };
    expect(sampleValue(before, 'fusion_http_requests_total', chat)).toBeUndefined();
    expect(sampleValue(before, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    await stack.client.chat.completions.create({ model: 'faults/steady', messages: [USER_MESSAGE] });
    const stream = await stack.client.chat.completions.create({
      model: 'faults/steady',
      messages: [USER_MESSAGE],
      stream: true,
    });
    for await (const _chunk of stream) {
      // read to the end
    }
    await stack.client.chat.completions.create({ model: 'fusion/flaky', messages: [USER_MESSAGE] });
    await stack.client.chat.completions.create({ model: 'fusion/hedged', messages: [USER_MESSAGE] });
    await expect(
      stack.client.chat.completions.create({ model: 'faults/nope', messages: [USER_MESSAGE] }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      stack.client.chat.completions.create({ model: 'fusion/broken', messages: [USER_MESSAGE] }),
    ).rejects.toMatchObject({ status: 400 });
    expect((await fetch(`${stack.url}/no/such/path/${Math.random()}`)).status).toBe(404);

    // A stream's duration is taken when it ends on the server, just after the client's last read.
    const after = await vi.waitFor(async () => {
      const families = await scrape();
      expect(
        sampleValue(families, 'fusion_http_request_duration_seconds_count', { ...chat, stream: 'true' }),
      ).toBe(1);
      return families;
    });

    expect(sampleValue(after, 'fusion_http_requests_total', { ...chat, status: '200', method: 'POST' })).toBe(
      2,
    );
    expect(
      sampleValue(after, 'fusion_http_request_duration_seconds_count', { ...chat, stream: 'false' }),
    ).toBe(1);
    expect(sampleValue(after, 'fusion_http_time_to_first_token_seconds_count', chat)).toBe(1);
    // Pipelines are labelled by the model the client asked for, their calls by target and pipeline.
    expect(sampleValue(after, 'fusion_http_requests_total', { model: 'fusion/hedged', status: '200' })).toBe(
      1,
    );
    expect(
      sampleValue(after, 'fusion_http_requests_total', { status: '404', route: '/v1/chat/completions' }),
    ).toBe(1);
    // Unknown paths share one label, whatever they are.
    expect(sampleValue(after, 'fusion_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);

    const steady = { provider: 'faults', target: 'faults/steady', pipeline: 'none' };
    expect(sampleValue(after, 'fusion_target_calls_total', { ...steady, outcome: 'ok' })).toBe(2);
    expect(sampleValue(after, 'fusion_tokens_total', { ...steady, direction: 'prompt' })).toBeGreaterThan(0);
    expect(sampleValue(after, 'fusion_tokens_total', { ...steady, direction: 'completion' })).toBeGreaterThan(
      0,
    );
    expect(sampleValue(after, 'fusion_target_time_to_first_token_seconds_count', steady)).toBe(1);

    const flaky = { target: 'faults/flaky', pipeline: 'fusion/flaky' };
    expect(sampleValue(after, 'fusion_target_retries_total', flaky)).toBe(1);
    expect(sampleValue(after, 'fusion_target_calls_total', { ...flaky, outcome: 'ok' })).toBe(1);
    expect(sampleValue(after, 'fusion_target_calls_total', { ...flaky })).toBe(2);
    expect(
      sampleValue(after, 'fusion_pipeline_runs_total', { pipeline: 'fusion/flaky', outcome: 'complete' }),
    ).toBe(1);
    expect(sampleValue(after, 'fusion_pipeline_duration_seconds_count', { pipeline: 'fusion/flaky' })).toBe(
      1,
    );

    // A failed pipeline run is counted by its error's code.
    const broken = { pipeline: 'fusion/broken' };
    expect(sampleValue(after, 'fusion_pipeline_runs_total', { ...broken, outcome: 'invalid_request' })).toBe(
      1,
    );
    expect(
      sampleValue(after, 'fusion_pipeline_runs_total', { ...broken, outcome: 'complete' }),
    ).toBeUndefined();

    expect(
      sampleValue(after, 'fusion_hedges_total', { target: 'faults/quick', pipeline: 'fusion/hedged' }),
    ).toBe(1);

    // State read at scrape time: circuits of every model, and the queue's totals.
    expect(sampleValue(after, 'fusion_circuit_breaker_state', { target: 'faults/steady' })).toBe(0);
    expect(sampleValue(after, 'fusion_queue_completed_total', { model: 'faults/steady' })).toBe(2);
    expect(sampleValue(after, 'fusion_queue_waiting', { model: 'faults/steady' })).toBe(0);
    expect(sampleValue(after, 'fusion_requests_in_flight')).toBeGreaterThanOrEqual(0);
  });

  it('times the waits of calls the queue held back, by model', async () => {
    // One slot: of three calls at once, two wait (one about 200 ms, one about 400 ms).
    await Promise.all(
      [1, 2, 3].map(() =>
        stack.client.chat.completions.create({ model: 'faults/single', messages: [USER_MESSAGE] }),
      ),
    );
    const families = await scrape();
    const single = { model: 'faults/single' };
    expect(sampleValue(families, 'fusion_queue_wait_seconds_count', single)).toBe(2);
    expect(sampleValue(families, 'fusion_queue_wait_seconds_sum', single)).toBeGreaterThan(0.3);
    expect(sampleValue(families, 'fusion_queue_wait_seconds_bucket', { ...single, le: '0.005' })).toBe(0);
    expect(sampleValue(families, 'fusion_queue_completed_total', single)).toBe(3);
  });

  it('stops counting once closed', async () => {
    const metrics = createFusionMetrics(stack.fusion, { defaultMetrics: false });
    await stack.client.chat.completions.create({ model: 'faults/steady', messages: [USER_MESSAGE] });
    metrics.close();
    await (await postChat(stack.url, { model: 'faults/steady' })).text();
    const families = parsePrometheusText(await metrics.text());
    expect(sampleValue(families, 'fusion_http_requests_total', { model: 'faults/steady' })).toBe(1);
  });
});

describe('queue refusals', () => {
  it('emits queue:reject and counts it by model and reason: a full line, and a wait that timed out', async () => {
    const tight = await startFusionStack({
      upstream: { models: { held: 'first-token-delay-ms=1500' } },
      fusion: { queue: { models: { 'faults/held': 1 }, perModelMaxWaiting: 1, waitTimeoutMs: 300 } },
    });
    try {
      const metrics = createFusionMetrics(tight.fusion, { defaultMetrics: false });
      const rejects: { model: string; reason: string }[] = [];
      tight.fusion.events.on('queue:reject', ({ model, reason }) => rejects.push({ model, reason }));
      // One runs (1.5 s), one waits and gives up after 300 ms, the third finds the line full.
      const running = postChat(tight.url, { model: 'faults/held' });
      await vi.waitFor(() => expect(tight.upstream.chatRequests('held')).toHaveLength(1));
      const waiting = postChat(tight.url, { model: 'faults/held' });
      await vi.waitFor(() => expect(tight.fusion.queue.stats().models['faults/held']?.waiting).toBe(1));
      const refused = await postChat(tight.url, { model: 'faults/held' });
      expect(refused.status).toBe(429);
      expect((await waiting).status).toBe(429);
      expect((await running).status).toBe(200);
      expect(rejects).toEqual([
        { model: 'faults/held', reason: 'model' },
        { model: 'faults/held', reason: 'timeout' },
      ]);
      const families = parsePrometheusText(await metrics.text());
      const held = { model: 'faults/held' };
      expect(sampleValue(families, 'fusion_queue_rejected_total', { ...held, reason: 'model' })).toBe(1);
      expect(sampleValue(families, 'fusion_queue_rejected_total', { ...held, reason: 'timeout' })).toBe(1);
      metrics.close();
    } finally {
      await tight.close();
    }
  });
});
