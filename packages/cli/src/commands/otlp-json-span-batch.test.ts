import { SpanKind } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { LightTracerProvider } from './light-tracer-provider.js';
import { OtlpJsonSpanBatch, SpanBytesPool } from './otlp-json-span-batch.js';

const resource = resourceFromAttributes({ 'service.name': 'batch-bytes-test' });

/** `count` finished spans of one tracer, with a long and a non-ASCII attribute. */
function spans(count: number, tracerName = '@fusionkit/observability'): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const tracer = new LightTracerProvider({
    resource,
    processor: new SimpleSpanProcessor(exporter),
  }).getTracer(tracerName);
  for (let index = 0; index < count; index++) {
    tracer
      .startSpan(`chat lab/ünïcode-${index} 🚀`, {
        kind: SpanKind.CLIENT,
        attributes: { 'fusion.attempt': index, 'url.path': `/v1/${'x'.repeat(300)}` },
      })
      .end();
  }
  return exporter.getFinishedSpans();
}

const json = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8'));

/** What the SDK's own JSON serializer sends for `finished`, parsed. */
const sdkJson = (finished: ReadableSpan[]) =>
  json(JsonTraceSerializer.serializeRequest(finished) as Uint8Array);

describe('OtlpJsonSpanBatch', () => {
  it("writes the request the SDK's serializer writes, growing its buffer past the first capacity", () => {
    const finished = spans(300);
    const batch = new OtlpJsonSpanBatch();
    for (const span of finished) batch.add(span);
    expect(batch.count).toBe(300);
    const request = batch.toRequest();
    expect(request.byteLength).toBeGreaterThan(64 * 1024);
    expect(json(request)).toEqual(sdkJson(finished));
    // Asked again (a retry), the same request.
    expect(json(batch.toRequest())).toEqual(json(request));
  });

  it("writes spans of several scopes, grouped as the SDK's serializer groups them", () => {
    const [first, second, third] = [spans(2, 'a'), spans(1, 'b'), spans(1, 'a')];
    const all = [first[0]!, second[0]!, first[1]!, third[0]!];
    const batch = new OtlpJsonSpanBatch();
    for (const span of all) batch.add(span);
    expect(json(batch.toRequest())).toEqual(sdkJson(all));
  });

  it('reuses the buffers of a released batch for the next one, without their old bytes', () => {
    const pool = new SpanBytesPool(1);
    const first = new OtlpJsonSpanBatch(pool);
    for (const span of spans(50)) first.add(span);
    const firstBytes = first.toRequest();
    first.release();
    expect(first.count).toBe(0);
    const next = new OtlpJsonSpanBatch(pool);
    const fewer = spans(3);
    for (const span of fewer) next.add(span);
    const nextBytes = next.toRequest();
    expect(nextBytes.buffer).toBe(firstBytes.buffer);
    expect(json(nextBytes)).toEqual(sdkJson(fewer));
  });
});
