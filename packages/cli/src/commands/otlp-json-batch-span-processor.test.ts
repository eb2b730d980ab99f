import {
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LightTracerProvider } from './light-tracer-provider.js';
import {
  batchSettingsFromEnv,
  OtlpJsonBatchSpanProcessor,
  type SpanBatchExporter,
} from './otlp-json-batch-span-processor.js';

const resource = resourceFromAttributes({ 'service.name': 'batch-test' });

/** An exporter that keeps the JSON of each export and its callback: `settle` answers the oldest unanswered one. */
function recordingExporter() {
  const requests: { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] }[] = [];
  const callbacks: ((result: { code: number; error?: Error }) => void)[] = [];
  const exporter: SpanBatchExporter & { shutdown: ReturnType<typeof vi.fn> } = {
    export(batch, resultCallback) {
      // Read now: the batch's bytes go back to the processor once the export is answered.
      requests.push(JSON.parse(Buffer.from(batch.toRequest()).toString('utf8')));
      callbacks.push(resultCallback);
    },
    shutdown: vi.fn(async () => {}),
  };
  return {
    exporter,
    requests: () => requests,
    /** Names of the spans of each export. */
    names: () =>
      requests.map((request) =>
        request.resourceSpans.flatMap((entry) =>
          entry.scopeSpans.flatMap((scope) => scope.spans.map((span) => span.name)),
        ),
      ),
    settle(code = 0) {
      callbacks.shift()?.({ code });
    },
    settleAll() {
      while (callbacks.length > 0) callbacks.shift()!({ code: 0 });
    },
  };
}

/** Both processors get every span: the one under test, and one keeping the spans themselves. */
function tee(first: SpanProcessor, second: SpanProcessor): SpanProcessor {
  return {
    onStart(span, parent) {
      first.onStart(span, parent);
      second.onStart(span, parent);
    },
    onEnd(span) {
      first.onEnd(span);
      second.onEnd(span);
    },
    forceFlush: () => Promise.all([first.forceFlush(), second.forceFlush()]).then(() => {}),
    shutdown: () => Promise.all([first.shutdown(), second.shutdown()]).then(() => {}),
  };
}

/** Spans of several shapes (links, events, unicode, a second scope), ended in the order made. */
function makeSpans(tracer: Tracer, other: Tracer): void {
  const parent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
    traceState: createTraceState('vendor=a'),
    isRemote: true,
  });
  const request = tracer.startSpan(
    'POST /v1/chat/completions',
    { kind: SpanKind.SERVER, attributes: { 'url.path': '/v1/"quoted"\n' } },
    parent,
  );
  const call = tracer.startSpan(
    'chat lab/ünïcode 🚀',
    {
      kind: SpanKind.CLIENT,
      attributes: { 'fusion.attempt': 1, 'fusion.targets': ['a', 'b'], 'fusion.ratio': 0.25 },
      links: [{ context: request.spanContext(), attributes: { why: 'hedge' } }],
    },
    trace.setSpan(ROOT_CONTEXT, request),
  );
  call.addEvent('retry', { 'error.type': 'upstream_error' });
  call.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  call.end();
  other.startSpan('root', {}, ROOT_CONTEXT).end();
  request.end();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('OtlpJsonBatchSpanProcessor', () => {
  it.each([
    ['light', (processor: SpanProcessor) => new LightTracerProvider({ resource, processor })],
    ['SDK', (processor: SpanProcessor) => new BasicTracerProvider({ resource, spanProcessors: [processor] })],
  ])("exports what the SDK's JSON serializer sends for the same spans (%s provider)", async (_name, make) => {
    const recording = recordingExporter();
    const kept = new InMemorySpanExporter();
    const provider = make(
      tee(new OtlpJsonBatchSpanProcessor(recording.exporter), new SimpleSpanProcessor(kept)),
    );
    makeSpans(
      provider.getTracer('@fusionkit/observability'),
      provider.getTracer('other', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' }),
    );
    const flushed = provider.forceFlush();
    recording.settleAll();
    await flushed;
    const spans = kept.getFinishedSpans();
    expect(spans).toHaveLength(3);
    const sdk = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
    expect(recording.requests()).toEqual([sdk]);
  });

  it('exports a full batch at once, and a partial one after the schedule delay', async () => {
    vi.useFakeTimers();
    const recording = recordingExporter();
    const tracer = new LightTracerProvider({
      resource,
      processor: new OtlpJsonBatchSpanProcessor(recording.exporter, {
        maxExportBatchSize: 2,
        scheduledDelayMillis: 1000,
      }),
    }).getTracer('test');
    for (const name of ['a', 'b', 'c']) tracer.startSpan(name).end();
    expect(recording.names()).toEqual([['a', 'b']]);
    recording.settle();
    await vi.advanceTimersByTimeAsync(999);
    expect(recording.names()).toEqual([['a', 'b']]);
    await vi.advanceTimersByTimeAsync(1);
    expect(recording.names()).toEqual([['a', 'b'], ['c']]);
  });

  it('exports one batch at a time, drops spans past maxQueueSize, and skips unsampled spans', async () => {
    const recording = recordingExporter();
    const processor = new OtlpJsonBatchSpanProcessor(recording.exporter, {
      maxExportBatchSize: 2,
      maxQueueSize: 4,
    });
    const tracer = new LightTracerProvider({ resource, processor }).getTracer('test');
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.NONE,
    });
    tracer.startSpan('unsampled', {}, unsampled).end();
    // a and b are being exported; c to f wait (the queue's 4), g is dropped.
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) tracer.startSpan(name).end();
    expect(recording.names()).toEqual([['a', 'b']]);
    recording.settle();
    await vi.waitFor(() => expect(recording.names()).toHaveLength(2));
    recording.settle();
    await vi.waitFor(() => expect(recording.names()).toHaveLength(3));
    recording.settle();
    await processor.forceFlush();
    expect(recording.names()).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ]);
  });

  it('sends what waits at shutdown, then shuts the exporter down and takes no more spans', async () => {
    const recording = recordingExporter();
    const processor = new OtlpJsonBatchSpanProcessor(recording.exporter, { maxExportBatchSize: 2 });
    const tracer = new LightTracerProvider({ resource, processor }).getTracer('test');
    tracer.startSpan('last').end();
    const closing = processor.shutdown();
    expect(processor.shutdown()).toBe(closing);
    recording.settleAll();
    await closing;
    expect(recording.names()).toEqual([['last']]);
    expect(recording.exporter.shutdown).toHaveBeenCalledTimes(1);
    tracer.startSpan('too late').end();
    await processor.forceFlush();
    expect(recording.names()).toEqual([['last']]);
  });
});

describe('batchSettingsFromEnv', () => {
  it('reads the OTEL_BSP_* variables, ignoring empty and non-numeric ones', () => {
    expect(
      batchSettingsFromEnv({
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '100',
        OTEL_BSP_MAX_QUEUE_SIZE: ' 400 ',
        OTEL_BSP_SCHEDULE_DELAY: '',
        OTEL_BSP_EXPORT_TIMEOUT: 'soon',
      }),
    ).toEqual({ maxExportBatchSize: 100, maxQueueSize: 400 });
  });
});
