import {
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { LightTracerProvider } from './light-tracer-provider.js';
import { otlpJsonOfSpans } from './otlp-json-span-batch.js';

const resource = resourceFromAttributes({ 'service.name': 'json-test', 'service.instance.id': 7 });
const remote = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
  traceState: createTraceState('vendor=a,other=b'),
  isRemote: true,
});

/** Spans of every shape `fusion serve` makes and then some, from two tracers, through a provider. */
function spansOf(make: (processor: SimpleSpanProcessor) => TracerProvider): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = make(new SimpleSpanProcessor(exporter));
  const tracer = provider.getTracer('@fusionkit/observability');
  const request = tracer.startSpan(
    'POST /v1/chat/completions',
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'url.path': '/v1/"quoted"\n' } },
    remote,
  );
  const call = tracer.startSpan(
    'chat lab/ünïcode',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.request.model': 'lab/steady',
        'fusion.stream': false,
        'fusion.attempt': 1,
        'fusion.targets': ['a', 'b'],
        'fusion.weights': [0.5, 2],
        'fusion.ratio': 0.25,
        'fusion.big': 2 ** 60,
      },
      links: [{ context: request.spanContext(), attributes: { why: 'hedge' } }],
    },
    trace.setSpan(ROOT_CONTEXT, request),
  );
  call.addEvent('first token');
  call.addEvent('retry', { 'fusion.attempt': 2, 'error.type': 'upstream_error' }, [1_700_000_000, 5]);
  call.setStatus({ code: SpanStatusCode.ERROR, message: 'boom "quoted"' });
  call.end();
  const other = provider.getTracer('other', '1.2.3', {
    schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
  });
  other.startSpan('root', { kind: SpanKind.INTERNAL }, ROOT_CONTEXT).end([12, 0]);
  request.setStatus({ code: SpanStatusCode.OK });
  request.setAttribute('http.response.status_code', 200);
  request.end();
  return exporter.getFinishedSpans();
}

function sdkJson(spans: ReadableSpan[]): unknown {
  return JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
}

describe('otlpJsonOfSpans', () => {
  it.each([
    ['light', (processor: SimpleSpanProcessor) => new LightTracerProvider({ resource, processor })],
    [
      'SDK',
      (processor: SimpleSpanProcessor) => new BasicTracerProvider({ resource, spanProcessors: [processor] }),
    ],
  ])("writes what the SDK's JSON serializer sends (%s provider's spans)", (_name, make) => {
    const spans = spansOf(make);
    expect(spans).toHaveLength(3);
    const json = JSON.parse(otlpJsonOfSpans(spans));
    expect(json).toEqual(sdkJson(spans));
    // Grouped by scope: the two spans of '@fusionkit/observability' together, in order.
    expect(json.resourceSpans[0].scopeSpans.map((scope: { spans: unknown[] }) => scope.spans.length)).toEqual(
      [2, 1],
    );
  });

  it('groups spans by resource, and writes timestamps of every size as the SDK does', () => {
    const spans = spansOf((processor) => new LightTracerProvider({ resource, processor }));
    /** A copy of a light span (its fields are its own, but for `spanContext`) with `changes`. */
    const copy = (span: ReadableSpan, changes: Partial<ReadableSpan>): ReadableSpan => ({
      ...span,
      spanContext: () => span.spanContext(),
      ...changes,
    });
    const elsewhere = copy(spans[2]!, { resource: resourceFromAttributes({ 'service.name': 'elsewhere' }) });
    const times = (
      [
        [0, 0],
        [0, 999_999_999],
        [1, 1],
        [1_765_000_000, 123_456_789],
      ] as [number, number][]
    ).map((startTime) => copy(spans[0]!, { startTime }));
    const all = [spans[0]!, elsewhere, ...times, spans[1]!];
    expect(JSON.parse(otlpJsonOfSpans(all))).toEqual(sdkJson(all));
  });
});
