import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import type { OtlpJsonSpanBatch } from './otlp-json-span-batch.js';

/** How the exporter's own (opt-in) metrics count what it sends, as the SDK's span exporters do. */
const SPANS_COUNTED = { name: 'span' as const, countItems: (batch: OtlpJsonSpanBatch) => batch.count };

/** The export response of an OTLP/HTTP collector, as the SDK's JSON serializer reads it. */
export interface OtlpTraceExportResponse {
  partialSuccess?: { rejectedSpans?: number; errorMessage?: string };
}

/**
 * The serializer of the exporter (the `serializer` of `createOtlpHttpExportDelegate`): batches
 * already written to OTLP/JSON are sent as they are, and the collector's answer is read as JSON.
 */
export const otlpJsonBatchSerializer = {
  serializeRequest(batch: OtlpJsonSpanBatch): Uint8Array {
    return batch.toRequest();
  },
  deserializeResponse(data: Uint8Array): OtlpTraceExportResponse {
    if (data.length === 0) return {};
    try {
      return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
    } catch {
      // As the SDK's serializer: a collector's unreadable answer still means the export succeeded.
      return {};
    }
  },
};

/**
 * The OTLP/HTTP JSON exporter of `fusion serve`, for `OtlpJsonBatchSpanProcessor`'s batches: the
 * SDK's `OTLPTraceExporter` of `@opentelemetry/exporter-trace-otlp-http` (the same transport,
 * retries, concurrency limit and `OTEL_EXPORTER_OTLP_*` configuration: endpoint, headers, timeout,
 * compression), exporting spans written to JSON as they ended instead of transforming span objects.
 */
export function createOtlpJsonBatchExporter(): OTLPExporterBase<OtlpJsonSpanBatch> {
  return new OTLPExporterBase<OtlpJsonSpanBatch>(
    createOtlpHttpExportDelegate(
      convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' }),
      otlpJsonBatchSerializer,
      'otlp_http_span_exporter',
      SPANS_COUNTED,
      undefined,
    ),
  );
}
