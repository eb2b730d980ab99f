import type { Fusion, FusionError } from '@fusionkit/core';
import {
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { RouteLabels } from '../metrics/route-label.js';
import { RequestBook } from '../request-book.js';
import { contextOfTraceparent } from './parse-traceparent.js';

/** The parts of the orchestrator tracing observes (and `hook`, to send trace context upstream). */
export type TracedFusion = Pick<Fusion, 'events'> & Partial<Pick<Fusion, 'hook'>>;

export interface FusionTracingOptions {
  /** Where spans go. @default the global provider of `@opentelemetry/api` */
  tracerProvider?: TracerProvider;
  /**
   * Send each call's span upstream as W3C `traceparent` (and `tracestate`), so that an upstream that
   * traces (vLLM, a gateway) continues the trace. Needs `fusion.hook`. @default true
   */
  propagate?: boolean;
}

/** `traceFlags` as the two hex digits of a `traceparent` (nearly always `01` or `00`). */
const FLAGS = Array.from({ length: 256 }, (_, flags) => flags.toString(16).padStart(2, '0'));

/** The W3C `traceparent` (and `tracestate`) headers of a span, added to the hook's `headers`. */
function withTraceHeaders(headers: Record<string, string>, span: Span): Record<string, string> {
  const { traceId, spanId, traceFlags, traceState } = span.spanContext();
  const traced: Record<string, string> = {
    ...headers,
    traceparent: `00-${traceId}-${spanId}-${FLAGS[traceFlags & 0xff]}`,
  };
  const state = traceState?.serialize();
  if (state) traced.tracestate = state;
  return traced;
}

/** An open call span: hedges and samples may call one target twice, so calls are matched in order. */
interface OpenCall {
  model: string;
  span: Span;
}

interface RequestSpans {
  span: Span;
  /** The caller's context (the parent of {@link span}). */
  parent: Context;
  /** The context with {@link span} active, made when a child span first needs it. */
  context?: Context;
  streaming?: boolean;
  /** The span of the pipeline the request runs and its context; `ended` once `pipeline:end` ended it. */
  pipeline?: { span: Span; context: Context; ended: boolean };
  /** Open call spans, oldest first. */
  calls: OpenCall[];
  /** Open retrieval spans, by collection (`model` holds the collection's name), oldest first. */
  retrievals?: OpenCall[];
}

/** The context a child of the request's span starts in. */
function requestContext(spans: RequestSpans): Context {
  return (spans.context ??= trace.setSpan(spans.parent, spans.span));
}

/** Takes the oldest open span of `model` out of `calls` (a request's calls or its retrievals). */
function takeCall(
  spans: RequestSpans | undefined,
  model: string,
  list: 'calls' | 'retrievals' = 'calls',
): Span | undefined {
  const calls = spans?.[list];
  if (!calls) return undefined;
  for (let index = 0; index < calls.length; index++) {
    if (calls[index]!.model === model) return calls.splice(index, 1)[0]!.span;
  }
  return undefined;
}

/** The newest open call span of `model` (the one a `call:headers` hook runs for). */
function lastCall(spans: RequestSpans | undefined, model: string): Span | undefined {
  const calls = spans?.calls;
  if (!calls) return undefined;
  for (let index = calls.length - 1; index >= 0; index--) {
    if (calls[index]!.model === model) return calls[index]!.span;
  }
  return undefined;
}

/** Where retries and hedges are recorded: the pipeline's span while it is open, else the request's. */
function requestEventSpan(spans: RequestSpans | undefined): Span | undefined {
  if (!spans) return undefined;
  return spans.pipeline && !spans.pipeline.ended ? spans.pipeline.span : spans.span;
}

function failed(span: Span, error: FusionError): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.setAttribute('error.type', error.code);
}

/**
 * OpenTelemetry spans of an orchestrator, built from its event bus: one server span per request
 * (a child of the caller's `traceparent`), a span per pipeline run, and a client span per target
 * call with GenAI semantic-convention attributes (`gen_ai.operation.name`, `gen_ai.provider.name`,
 * `gen_ai.request.model`, `gen_ai.usage.input_tokens`/`output_tokens`), and a span per retrieval
 * (`retrieve <collection>`: k, mode, hits, a fallback's mode). Retries and hedges are
 * events of the pipeline's span. Spans are only made for requests that went through `handle`. Each
 * call's span goes upstream as `traceparent`/`tracestate` (through the `call:headers` hook).
 * Returns the unsubscribe.
 *
 * @example attachFusionTracing(fusion); // with an SDK registered, e.g. NodeSDK of @opentelemetry/sdk-node
 */
export function attachFusionTracing(fusion: TracedFusion, options: FusionTracingOptions = {}): () => void {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('@fusionkit/observability');
  const requests = new RequestBook<RequestSpans>();
  // Span names are for grouping: ids in paths are collapsed, as in the metrics' route label.
  const routes = new RouteLabels();
  const events = fusion.events;

  const endRequest = (requestId: string, error?: FusionError) => {
    const spans = requests.close(requestId);
    if (!spans) return;
    for (const call of spans.calls) call.span.end();
    if (spans.retrievals) for (const retrieval of spans.retrievals) retrieval.span.end();
    // A span is ended once: the SDK warns, with a stack trace, about any later operation on it.
    if (spans.pipeline && !spans.pipeline.ended) spans.pipeline.span.end();
    if (error) failed(spans.span, error);
    spans.span.end();
  };

  const unsubscribes = [
    events.on('request:start', ({ requestId, method, path, traceparent }) => {
      const parent = contextOfTraceparent(traceparent);
      const span = tracer.startSpan(
        `${method} ${routes.of(path)}`,
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': method, 'url.path': path, 'fusion.request_id': requestId },
        },
        parent,
      );
      requests.open(requestId, { span, parent, calls: [] });
    }),
    events.on('request:error', ({ requestId, error }) => {
      const spans = requests.get(requestId);
      if (spans) failed(spans.span, error);
    }),
    events.on('stream:start', ({ requestId }) => {
      const spans = requests.get(requestId);
      if (spans) {
        spans.streaming = true;
        spans.span.addEvent('first token');
      }
    }),
    events.on('request:end', ({ requestId, status }) => {
      const spans = requests.get(requestId);
      if (!spans) return;
      spans.span.setAttribute('http.response.status_code', status);
      if (status >= 500) spans.span.setStatus({ code: SpanStatusCode.ERROR });
      // A stream's span lasts until its last chunk.
      if (!(spans.streaming && status < 400)) endRequest(requestId);
    }),
    events.on('stream:end', ({ requestId }) => endRequest(requestId)),
    events.on('stream:error', ({ requestId, error }) => endRequest(requestId, error)),
    events.on('route:choose', ({ requestId, pipeline, router, targets }) => {
      const spans = requests.get(requestId);
      if (!spans) return;
      const span = tracer.startSpan(
        `pipeline ${pipeline}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: { 'fusion.pipeline': pipeline, 'fusion.router': router, 'fusion.targets': targets },
        },
        requestContext(spans),
      );
      const context = trace.setSpan(requestContext(spans), span);
      spans.pipeline = { span, context, ended: false };
    }),
    events.on('pipeline:end', ({ requestId, strategy, calls, partial, traceId, error }) => {
      const pipeline = requests.get(requestId)?.pipeline;
      if (!pipeline || pipeline.ended) return;
      pipeline.ended = true;
      pipeline.span.setAttributes({
        'fusion.strategy': strategy,
        'fusion.calls': calls,
        'fusion.partial': partial,
        'fusion.trace_id': traceId,
      });
      if (error) failed(pipeline.span, error);
      pipeline.span.end();
    }),
    events.on('call:retry', ({ requestId, target, attempt, delayMs, error }) => {
      requestEventSpan(requests.get(requestId))?.addEvent('retry', {
        'fusion.target': target,
        'fusion.attempt': attempt,
        'fusion.delay_ms': delayMs,
        'error.type': error.code,
      });
    }),
    events.on('hedge:fire', ({ requestId, target, afterMs }) => {
      requestEventSpan(requests.get(requestId))?.addEvent('hedge', {
        'fusion.target': target,
        'fusion.after_ms': afterMs,
      });
    }),
    events.on('retrieval:start', ({ requestId, collection, k, mode }) => {
      const spans = requests.get(requestId);
      if (!spans) return;
      const span = tracer.startSpan(
        `retrieve ${collection}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            'fusion.collection': collection,
            'fusion.retrieval.k': k,
            'fusion.retrieval.mode': mode,
          },
        },
        spans.pipeline && !spans.pipeline.ended ? spans.pipeline.context : requestContext(spans),
      );
      (spans.retrievals ??= []).push({ model: collection, span });
    }),
    events.on('retrieval:end', ({ requestId, collection, hits, degraded }) => {
      const span = takeCall(requests.get(requestId), collection, 'retrievals');
      if (!span) return;
      span.setAttribute('fusion.retrieval.hits', hits);
      if (degraded) {
        span.setAttributes({
          'fusion.retrieval.degraded': degraded.mode,
          'fusion.retrieval.degraded_reason': degraded.reason,
        });
      }
      span.end();
    }),
    events.on('retrieval:error', ({ requestId, collection, error }) => {
      const span = takeCall(requests.get(requestId), collection, 'retrievals');
      if (!span) return;
      failed(span, error);
      span.end();
    }),
    events.on('provider:call:start', ({ requestId, provider, model, stream, attempt }) => {
      const spans = requests.get(requestId);
      if (!spans) return;
      const span = tracer.startSpan(
        `chat ${model}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': provider,
            'gen_ai.request.model': model,
            'fusion.stream': stream,
            'fusion.attempt': attempt,
          },
        },
        spans.pipeline?.context ?? requestContext(spans),
      );
      spans.calls.push({ model, span });
    }),
    events.on('provider:call:end', ({ requestId, model, firstTokenMs, usage }) => {
      const span = takeCall(requests.get(requestId), model);
      if (!span) return;
      if (usage) {
        span.setAttributes({
          'gen_ai.usage.input_tokens': usage.prompt_tokens,
          'gen_ai.usage.output_tokens': usage.completion_tokens,
        });
      }
      if (firstTokenMs !== undefined) span.setAttribute('fusion.first_token_ms', firstTokenMs);
      span.end();
    }),
    events.on('provider:call:error', ({ requestId, model, error }) => {
      const span = takeCall(requests.get(requestId), model);
      if (!span) return;
      failed(span, error);
      span.end();
    }),
  ];
  if (options.propagate !== false && fusion.hook) {
    // Runs right after `provider:call:start`, whose listener above opened the call's span.
    unsubscribes.push(
      fusion.hook('call:headers', (headers, { requestId, model }) => {
        const span = lastCall(requests.get(requestId), model);
        return span ? withTraceHeaders(headers, span) : undefined;
      }),
    );
  }
  return () => {
    for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
  };
}
