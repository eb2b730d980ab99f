import {
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { LightTracerProvider } from './light-tracer-provider.js';

const resource = resourceFromAttributes({ 'service.name': 'light-test' });
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

function remoteParent(sampled: boolean) {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: PARENT_ID,
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

/** The span tree `fusion serve` makes, through a provider; its finished spans, oldest first. */
function spansOf(make: (processor: SimpleSpanProcessor) => TracerProvider): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const tracer = make(new SimpleSpanProcessor(exporter)).getTracer('@fusionkit/observability');
  const request = tracer.startSpan(
    'POST /v1/chat/completions',
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'fusion.request_id': 'r1' } },
    remoteParent(true),
  );
  const call = tracer.startSpan(
    'chat lab/steady',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'lab/steady',
        'fusion.attempt': 1,
      },
    },
    trace.setSpan(ROOT_CONTEXT, request),
  );
  call.setAttributes({ 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 3 });
  call.setAttribute('ignored', undefined as unknown as string);
  call.end();
  request.addEvent('retry', { 'fusion.attempt': 2, 'error.type': 'upstream_error' });
  request.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  request.setAttribute('http.response.status_code', 502);
  request.end();
  // Operations on an ended span change nothing.
  request.setAttribute('late', true);
  request.end();
  return exporter.getFinishedSpans();
}

/** What an exporter reads of a span, with ids and times reduced to what must hold between them. */
function exported(spans: ReadableSpan[]) {
  const [call, request] = spans as [ReadableSpan, ReadableSpan];
  expect(call.spanContext().traceId).toBe(TRACE_ID);
  expect(call.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
  expect(request.parentSpanContext).toMatchObject({ spanId: PARENT_ID, isRemote: true });
  for (const span of spans) {
    expect(span.spanContext().spanId).toMatch(/^[\da-f]{16}$/);
    expect(span.ended).toBe(true);
    const start = span.startTime[0] * 1e9 + span.startTime[1];
    const end = span.endTime[0] * 1e9 + span.endTime[1];
    expect(Math.abs(start - Date.now() * 1e6)).toBeLessThan(60e9);
    expect(end).toBeGreaterThanOrEqual(start);
    expect(span.duration[0] * 1e9 + span.duration[1]).toBeCloseTo(end - start, -3);
  }
  return spans.map((span) => ({
    name: span.name,
    kind: span.kind,
    traceFlags: span.spanContext().traceFlags,
    attributes: span.attributes,
    status: span.status,
    events: span.events.map((event) => ({ name: event.name, attributes: event.attributes })),
    links: span.links,
    resource: span.resource.attributes,
    scope: span.instrumentationScope.name,
    dropped: [span.droppedAttributesCount, span.droppedEventsCount, span.droppedLinksCount],
  }));
}

describe('LightTracerProvider', () => {
  it("makes the spans the SDK's provider makes", () => {
    const light = spansOf((processor) => new LightTracerProvider({ resource, processor }));
    const sdk = spansOf((processor) => new BasicTracerProvider({ resource, spanProcessors: [processor] }));
    expect(exported(light)).toEqual(exported(sdk));
    expect(light[1]!.attributes).not.toHaveProperty('late');
  });

  it("follows the parent's sampling decision, as the SDK's default sampler does", () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new LightTracerProvider({
      resource,
      processor: new SimpleSpanProcessor(exporter),
    }).getTracer('test');
    const unsampled: Span = tracer.startSpan('not sampled', {}, remoteParent(false));
    expect(unsampled.isRecording()).toBe(false);
    expect(unsampled.spanContext()).toMatchObject({ traceId: TRACE_ID, traceFlags: TraceFlags.NONE });
    unsampled.end();
    const root = tracer.startSpan('new trace', {}, ROOT_CONTEXT);
    expect(root.spanContext().traceId).toMatch(/^[\da-f]{32}$/);
    expect(root.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
    root.end();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['new trace']);
  });

  it('samples with the SDK sampler it is given, as the SDK tracer does with it', () => {
    const sampler = new TraceIdRatioBasedSampler(0.5);
    const recorded = (make: (processor: SimpleSpanProcessor) => TracerProvider) => {
      const exporter = new InMemorySpanExporter();
      const tracer = make(new SimpleSpanProcessor(exporter)).getTracer('test');
      const flags: number[] = [];
      let state = 2463534242;
      // Children of remote parents with 200 given trace ids: the ratio decides on the trace id alone.
      for (let index = 0; index < 200; index++) {
        // Four 32-bit parts from a xorshift generator (the ratio sampler XORs them).
        const traceId = [1, 2, 3, 4]
          .map(() => {
            state ^= state << 13;
            state ^= state >>> 17;
            state ^= state << 5;
            return (state >>> 0).toString(16).padStart(8, '0');
          })
          .join('');
        const span = tracer.startSpan(
          `span ${index}`,
          {},
          trace.setSpanContext(ROOT_CONTEXT, {
            traceId,
            spanId: PARENT_ID,
            traceFlags: TraceFlags.SAMPLED,
            isRemote: true,
          }),
        );
        expect(span.spanContext().traceId).toBe(traceId);
        flags.push(span.spanContext().traceFlags);
        span.end();
      }
      return { names: exporter.getFinishedSpans().map((span) => span.name), flags };
    };
    const light = recorded((processor) => new LightTracerProvider({ resource, processor, sampler }));
    const sdk = recorded(
      (processor) => new BasicTracerProvider({ resource, spanProcessors: [processor], sampler }),
    );
    expect(light).toEqual(sdk);
    // Some in, some out: a provider that ignored the sampler would record all 200.
    expect(light.names.length).toBeGreaterThan(20);
    expect(light.names.length).toBeLessThan(180);
  });

  it('gives a span the sampler leaves out its ids and no recording, and its children follow it', () => {
    const exporter = new InMemorySpanExporter();
    const sampler: Sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) });
    const tracer = new LightTracerProvider({
      resource,
      processor: new SimpleSpanProcessor(exporter),
      sampler,
    }).getTracer('test');
    const root = tracer.startSpan('left out', {}, ROOT_CONTEXT);
    expect(root.isRecording()).toBe(false);
    expect(root.spanContext().traceId).toMatch(/^[\da-f]{32}$/);
    expect(root.spanContext().traceFlags).toBe(TraceFlags.NONE);
    const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, root));
    expect(child.isRecording()).toBe(false);
    expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
    const kept = tracer.startSpan('sampled caller', {}, remoteParent(true));
    expect(kept.isRecording()).toBe(true);
    for (const span of [child, root, kept]) span.end();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['sampled caller']);
    expect(sampler.shouldSample(ROOT_CONTEXT, TRACE_ID, 'x', SpanKind.SERVER, {}, []).decision).toBe(
      SamplingDecision.NOT_RECORD,
    );
  });
});
