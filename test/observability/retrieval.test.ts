/**
 * Retrieval on the event bus and in the subscribers: the RAG plugin's search route and its `rag/<name>`
 * models report each search (`retrieval:start`/`end`, with hits and the BM25 fallback when the
 * embedder is down); tracing makes a `retrieve <collection>` span under the request's (or the
 * pipeline's) span, and metrics count searches by collection, mode and outcome.
 */
import { UnavailableError } from '@fusionkit/core';
import { attachFusionTracing, createFusionMetrics, type FusionMetrics } from '@fusionkit/observability';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createRagFusion,
  type RagFusionFixture,
} from '../../packages/providers/rag/src/__fixtures__/rag-fusion.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

const exporter = new InMemorySpanExporter();
let rag: RagFusionFixture;
let metrics: FusionMetrics;
let down = false;
const retrievals: { name: string; payload: Record<string, unknown> }[] = [];

beforeEach(async () => {
  down = false;
  retrievals.length = 0;
  exporter.reset();
  rag = await createRagFusion({
    embed: async (texts: string[]) => {
      if (down) throw new UnavailableError("The embedding model 'mock/embed' is unreachable.");
      return texts.map((text) =>
        Array.from({ length: 8 }, (_, index) => ((text.charCodeAt(index) || 1) % 7) + 1),
      );
    },
  });
  for (const name of ['retrieval:start', 'retrieval:end', 'retrieval:error'] as const) {
    rag.fusion.events.on(name, (payload) => retrievals.push({ name, payload: { ...payload } }));
  }
  attachFusionTracing(rag.fusion, {
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  });
  metrics = createFusionMetrics(rag.fusion, { defaultMetrics: false });
  const ingested = await rag.json('POST', '/api/rag/ingest', {
    collection: 'docs',
    create: true,
    paths: ['.'],
    async: false,
  });
  expect(ingested.status).toBe(200);
  exporter.reset();
});
afterEach(async () => {
  metrics.close();
  await rag.close();
});

const spanNamed = (name: string) => exporter.getFinishedSpans().find((span) => span.name === name);

describe('retrieval events, spans and metrics', () => {
  it('reports a search, and one answered from BM25 while the embedder is down', async () => {
    const search = await rag.json<{ data: unknown[] }>('POST', '/api/rag/search', {
      collection: 'docs',
      query: 'ports root',
      k: 3,
    });
    expect(search.status).toBe(200);
    down = true;
    const degraded = await rag.json('POST', '/api/rag/search', {
      collection: 'docs',
      query: 'which ports need root',
    });
    expect(degraded.status).toBe(200);

    expect(retrievals.map((entry) => entry.name)).toEqual([
      'retrieval:start',
      'retrieval:end',
      'retrieval:start',
      'retrieval:end',
    ]);
    const hits = search.body.data.length;
    expect(hits).toBeGreaterThan(0);
    expect(retrievals[1]!.payload).toMatchObject({ collection: 'docs', k: 3, mode: 'hybrid', hits });
    expect(retrievals[1]!.payload.degraded).toBeUndefined();
    expect(retrievals[3]!.payload).toMatchObject({
      collection: 'docs',
      k: 5,
      degraded: { mode: 'bm25', reason: expect.stringContaining('unavailable') },
    });

    const spans = exporter.getFinishedSpans().filter((span) => span.name === 'retrieve docs');
    expect(spans).toHaveLength(2);
    const requests = exporter.getFinishedSpans().filter((span) => span.name === 'POST /api/rag/search');
    expect(spans[0]!.parentSpanContext?.spanId).toBe(requests[0]!.spanContext().spanId);
    expect(spans[0]!.attributes).toMatchObject({
      'fusion.collection': 'docs',
      'fusion.retrieval.k': 3,
      'fusion.retrieval.mode': 'hybrid',
      'fusion.retrieval.hits': hits,
    });
    expect(spans[1]!.attributes['fusion.retrieval.degraded']).toBe('bm25');

    const families = parsePrometheusText(await metrics.text());
    const labels = { collection: 'docs', mode: 'hybrid' };
    expect(sampleValue(families, 'fusion_retrievals_total', { ...labels, outcome: 'ok' })).toBe(1);
    expect(sampleValue(families, 'fusion_retrievals_total', { ...labels, outcome: 'degraded' })).toBe(1);
    expect(sampleValue(families, 'fusion_retrieval_duration_seconds_count', labels)).toBe(2);
  });

  it('reports a failed search, and the retrieval of a rag/<name> model under its pipeline span', async () => {
    down = true;
    const vector = await rag.json('POST', '/api/rag/search', {
      collection: 'docs',
      query: 'ports',
      mode: 'vector',
    });
    expect(vector.status).toBe(503);
    expect(retrievals.map((entry) => entry.name)).toEqual(['retrieval:start', 'retrieval:error']);
    expect(spanNamed('retrieve docs')?.status.code).toBe(2); // SpanStatusCode.ERROR
    down = false;

    const answer = await rag.request('POST', '/v1/chat/completions', {
      model: 'rag/docs',
      messages: [{ role: 'user', content: 'Which ports need root?' }],
    });
    expect(answer.status).toBe(200);
    await answer.text();
    const pipeline = spanNamed('pipeline rag/docs');
    const retrieval = exporter
      .getFinishedSpans()
      .filter((span) => span.name === 'retrieve docs')
      .at(-1);
    expect(pipeline).toBeDefined();
    expect(retrieval?.parentSpanContext?.spanId).toBe(pipeline!.spanContext().spanId);
    expect(retrieval?.status.code).not.toBe(2);

    const code = (retrievals[1]!.payload.error as { code: string }).code;
    const families = parsePrometheusText(await metrics.text());
    expect(
      sampleValue(families, 'fusion_retrievals_total', { collection: 'docs', mode: 'vector', outcome: code }),
    ).toBe(1);
  });
});
