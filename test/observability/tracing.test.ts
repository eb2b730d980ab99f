/**
 * OpenTelemetry spans through real HTTP, read from the SDK's in-memory exporter: the caller's
 * `traceparent` is the parent, a pipeline's span sits under the request's, each target call under
 * the pipeline's with GenAI attributes; retries are events of the pipeline's span.
 */
import { attachFusionTracing } from '@fusionkit/observability';
import { type DiagLogger, DiagLogLevel, diag, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FusionStack, postChat, startFusionStack, USER_MESSAGE } from '../fusion/fusion-stack.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;

const exporter = new InMemorySpanExporter();
/** What the SDK complained about (e.g. an operation on an ended span, which also costs a stack trace). */
const warnings: string[] = [];
const record = (message: string) => void warnings.push(message);
const diagLogger: DiagLogger = { error: record, warn: record, info() {}, debug() {}, verbose() {} };
let stack: FusionStack;
beforeAll(async () => {
  diag.setLogger(diagLogger, DiagLogLevel.WARN);
  stack = await startFusionStack({
    upstream: { models: { flaky: { fault: 'status-500', times: 1 } } },
    fusion: {
      resilience: { retry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 50 } },
      pipelines: [{ name: 'fusion/flaky', targets: ['faults/flaky'] }],
    },
  });
  attachFusionTracing(stack.fusion, {
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  });
});
afterAll(async () => {
  diag.disable();
  await stack?.close();
});
beforeEach(() => {
  exporter.reset();
  warnings.length = 0;
});

const named = (spans: ReadableSpan[], name: string) => spans.find((span) => span.name === name);

describe('attachFusionTracing', () => {
  it("continues the caller's trace: request, pipeline and each call, with GenAI attributes", async () => {
    await stack.client.chat.completions.create(
      { model: 'fusion/flaky', messages: [USER_MESSAGE] },
      { headers: { traceparent: TRACEPARENT, 'x-request-id': 'traced-1' } },
    );
    const spans = await vi.waitFor(() => {
      const finished = exporter.getFinishedSpans();
      expect(finished.length).toBe(4);
      return finished;
    });
    const request = named(spans, 'POST /v1/chat/completions')!;
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(request.spanContext().traceId).toBe(TRACE_ID);
    expect(request.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(request.attributes).toMatchObject({
      'http.response.status_code': 200,
      'fusion.request_id': 'traced-1',
    });

    const pipeline = named(spans, 'pipeline fusion/flaky')!;
    expect(pipeline.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(pipeline.attributes).toMatchObject({ 'fusion.pipeline': 'fusion/flaky', 'fusion.calls': 1 });
    expect(pipeline.events.map((event) => event.name)).toEqual(['retry']);

    const calls = spans.filter((span) => span.name === 'chat faults/flaky');
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.kind).toBe(SpanKind.CLIENT);
      expect(call.spanContext().traceId).toBe(TRACE_ID);
      expect(call.parentSpanContext?.spanId).toBe(pipeline.spanContext().spanId);
      expect(call.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'faults',
        'gen_ai.request.model': 'faults/flaky',
      });
    }
    expect(calls.map((call) => call.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
    // Each try went upstream with its own span as the parent, in the caller's trace.
    const sent = stack.upstream
      .chatRequests('flaky')
      .filter((request) => request.headers['x-request-id'] === 'traced-1')
      .map((request) => request.headers.traceparent);
    expect(sent).toEqual(calls.map((call) => `00-${TRACE_ID}-${call.spanContext().spanId}-01`));
    expect(calls[1]!.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(calls[1]!.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    // Every span was ended once and never touched after its end.
    expect(warnings).toEqual([]);
  });

  it("ends a stream's span at its last chunk, and starts a new trace for a malformed traceparent", async () => {
    const response = await postChat(
      stack.url,
      { model: 'faults/steady', stream: true },
      { headers: { traceparent: 'not-a-trace-parent' } },
    );
    expect(response.status).toBe(200);
    await response.text();
    const spans = await vi.waitFor(() => {
      const finished = exporter.getFinishedSpans();
      expect(finished.map((span) => span.name).sort()).toEqual([
        'POST /v1/chat/completions',
        'chat faults/steady',
      ]);
      return finished;
    });
    const request = named(spans, 'POST /v1/chat/completions')!;
    expect(request.parentSpanContext).toBeUndefined();
    expect(request.events.map((event) => event.name)).toContain('first token');
    const call = named(spans, 'chat faults/steady')!;
    expect(call.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(warnings).toEqual([]);
  });

  it('marks a failed request', async () => {
    const response = await postChat(stack.url, { model: 'faults/missing' });
    expect(response.status).toBe(404);
    const request = await vi.waitFor(() => {
      const span = named(exporter.getFinishedSpans(), 'POST /v1/chat/completions');
      expect(span).toBeDefined();
      return span!;
    });
    expect(request.status.code).toBe(SpanStatusCode.ERROR);
    expect(request.attributes).toMatchObject({
      'error.type': 'model_not_found',
      'http.response.status_code': 404,
    });
  });
});
