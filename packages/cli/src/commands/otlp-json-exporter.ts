import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { otlpJsonSpanSerializer } from './otlp-json-spans.js';

/** How the exporter's own (opt-in) metrics count what it sends, as the SDK's span exporters do. */
const SPANS_COUNTED = { name: 'span' as const, countItems: (spans: ReadableSpan[]) => spans.length };

/**
 * The OTLP/HTTP JSON span exporter of `fusion serve`: the SDK's `OTLPTraceExporter` of
 * `@opentelemetry/exporter-trace-otlp-http` (the same transport, retries, concurrency limit and
 * `OTEL_EXPORTER_OTLP_*` configuration: endpoint, headers, timeout, compression), with
 * {@link otlpJsonSpanSerializer} in place of its generic JSON transformer.
 */
export function createOtlpJsonSpanExporter(): SpanExporter {
  return new OTLPExporterBase<ReadableSpan[]>(
    createOtlpHttpExportDelegate(
      convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' }),
      otlpJsonSpanSerializer,
      'otlp_http_span_exporter',
      SPANS_COUNTED,
      undefined,
    ),
  );
}
