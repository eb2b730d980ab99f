import { type Context, ROOT_CONTEXT, type SpanContext, trace } from '@opentelemetry/api';

const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})(?:-.*)?$/;

/**
 * The context of a W3C `traceparent` header (version 00, or a later one read as 00), or the root
 * context when the header is malformed or all zeros: a bad header starts a new trace, never an error.
 */
export function contextOfTraceparent(header: string | undefined): Context {
  if (header === undefined) return ROOT_CONTEXT;
  const match = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!match) return ROOT_CONTEXT;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && header.trim().length !== 55)) return ROOT_CONTEXT;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return ROOT_CONTEXT;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & 1,
    isRemote: true,
  };
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}
