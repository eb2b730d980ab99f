import type { HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** The export response of an OTLP/HTTP collector, as the SDK's JSON serializer reads it. */
export interface OtlpTraceExportResponse {
  partialSuccess?: { rejectedSpans?: number; errorMessage?: string };
}

type Scope = ReadableSpan['instrumentationScope'];

/** Span flags: the low 8 bits are the W3C trace flags; bit 8 says whether bit 9 (remote parent) is known. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

/**
 * An OTLP timestamp: nanoseconds since the epoch as a decimal string, written from the `HrTime`
 * digits without the `BigInt` arithmetic of the SDK's encoder (same text).
 */
function nanos(time: HrTime): string {
  const seconds = Math.trunc(time[0]);
  const fraction = Math.trunc(time[1]);
  if (seconds > 0 && fraction >= 0 && fraction < 1e9) {
    const digits = `${fraction}`;
    return `${seconds}${'000000000'.slice(digits.length)}${digits}`;
  }
  return (BigInt(seconds) * 1_000_000_000n + BigInt(fraction)).toString();
}

/** Characters JSON escapes: quotes, backslashes, controls, and surrogates (a lone one is escaped). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes.
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `text` as a JSON string; most need no escape, and quoting them here beats a `JSON.stringify` call. */
function quote(text: string): string {
  return ESCAPED.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** `{"key":<key>,"value":` by attribute key: a span's keys come from a small set. */
const keyPrefixes = new Map<string, string>();

function keyPrefix(key: string): string {
  let prefix = keyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = `{"key":${JSON.stringify(key)},"value":`;
    if (keyPrefixes.size < 1000) keyPrefixes.set(key, prefix);
  }
  return prefix;
}

/** An attribute value as OTLP's `AnyValue` in JSON. */
function anyValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `{"stringValue":${quote(value)}}`;
    case 'number':
      return Number.isInteger(value)
        ? `{"intValue":${JSON.stringify(value)}}`
        : `{"doubleValue":${JSON.stringify(value)}}`;
    case 'boolean':
      return value ? '{"boolValue":true}' : '{"boolValue":false}';
  }
  if (value instanceof Uint8Array) {
    return `{"bytesValue":"${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}"}`;
  }
  if (Array.isArray(value)) return `{"arrayValue":{"values":[${value.map(anyValue).join(',')}]}}`;
  if (value !== null && typeof value === 'object') return `{"kvlistValue":{"values":${keyValues(value)}}}`;
  return '{}';
}

/** Attributes as OTLP's `KeyValue` list in JSON. */
function keyValues(attributes: object): string {
  let json = '';
  for (const key of Object.keys(attributes)) {
    json += `${json === '' ? '' : ','}${keyPrefix(key)}${anyValue((attributes as Record<string, unknown>)[key])}}`;
  }
  return `[${json}]`;
}

function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

function spanJson(span: ReadableSpan): string {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  const traceState = context.traceState?.serialize();
  const { status } = span;
  let events = '';
  for (const event of span.events) {
    events += `${events === '' ? '' : ','}{"attributes":${event.attributes ? keyValues(event.attributes) : '[]'},"name":${JSON.stringify(event.name)},"timeUnixNano":"${nanos(event.time)}","droppedAttributesCount":${event.droppedAttributesCount || 0}}`;
  }
  let links = '';
  for (const link of span.links) {
    const linkState = link.context.traceState?.serialize();
    links += `${links === '' ? '' : ','}{"attributes":${link.attributes ? keyValues(link.attributes) : '[]'},"spanId":${JSON.stringify(link.context.spanId)},"traceId":${JSON.stringify(link.context.traceId)}${linkState === undefined ? '' : `,"traceState":${JSON.stringify(linkState)}`},"droppedAttributesCount":${link.droppedAttributesCount || 0},"flags":${flags(link.context.traceFlags, link.context.isRemote)}}`;
  }
  return (
    `{"traceId":"${context.traceId}","spanId":"${context.spanId}"` +
    (parent?.spanId ? `,"parentSpanId":"${parent.spanId}"` : '') +
    (traceState === undefined ? '' : `,"traceState":${JSON.stringify(traceState)}`) +
    `,"name":${quote(span.name)},"kind":${span.kind == null ? 0 : span.kind + 1}` +
    `,"startTimeUnixNano":"${nanos(span.startTime)}","endTimeUnixNano":"${nanos(span.endTime)}"` +
    `,"attributes":${keyValues(span.attributes)},"droppedAttributesCount":${span.droppedAttributesCount}` +
    `,"events":[${events}],"droppedEventsCount":${span.droppedEventsCount}` +
    `,"status":{"code":${status.code}${status.message === undefined ? '' : `,"message":${JSON.stringify(status.message)}`}}` +
    `,"links":[${links}],"droppedLinksCount":${span.droppedLinksCount}` +
    `,"flags":${flags(context.traceFlags, parent?.isRemote)}}`
  );
}

function resourceJson(resource: Resource): string {
  const schemaUrl = resource.schemaUrl ? `,"schemaUrl":${JSON.stringify(resource.schemaUrl)}` : '';
  return `{"attributes":${keyValues(resource.attributes)},"droppedAttributesCount":0${schemaUrl}}`;
}

function scopeJson(scope: Scope): string {
  const { attributes, droppedAttributesCount } = scope as Scope & {
    attributes?: object;
    droppedAttributesCount?: number;
  };
  return (
    `{"name":${JSON.stringify(scope.name)}` +
    (scope.version === undefined ? '' : `,"version":${JSON.stringify(scope.version)}`) +
    (attributes && Object.keys(attributes).length > 0
      ? `,"attributes":${keyValues(attributes)},"droppedAttributesCount":${droppedAttributesCount ?? 0}`
      : '') +
    '}'
  );
}

/**
 * The OTLP/JSON `ExportTraceServiceRequest` of finished spans, written straight to text: what the
 * SDK's `JsonTraceSerializer` sends (the same JSON once parsed, spans grouped by resource and by
 * instrumentation scope in the same order), without its intermediate object per span, attribute and
 * value, or its `BigInt` timestamps. `fusion serve` exports each span once, in batches, so this runs
 * once per span of every request.
 */
export function otlpJsonOfSpans(spans: readonly ReadableSpan[]): string {
  const resources = new Map<Resource, Map<string, { scope: Scope; json: string[] }>>();
  let lastResource: Resource | undefined;
  let lastScope: Scope | undefined;
  let entry: { scope: Scope; json: string[] } | undefined;
  for (const span of spans) {
    const { resource, instrumentationScope: scope } = span;
    // Spans of one tracer share their resource and scope objects: the scope's key is only built
    // when they change.
    if (resource !== lastResource || scope !== lastScope || !entry) {
      let scopes = resources.get(resource);
      if (!scopes) {
        scopes = new Map();
        resources.set(resource, scopes);
      }
      const key = `${scope.name}@${scope.version || ''}:${scope.schemaUrl || ''}`;
      entry = scopes.get(key);
      if (!entry) {
        entry = { scope, json: [] };
        scopes.set(key, entry);
      }
      lastResource = resource;
      lastScope = scope;
    }
    entry.json.push(spanJson(span));
  }
  let json = '';
  for (const [resource, scopes] of resources) {
    let scopeSpans = '';
    for (const { scope, json: spansJson } of scopes.values()) {
      const schemaUrl =
        scope.schemaUrl === undefined ? '' : `,"schemaUrl":${JSON.stringify(scope.schemaUrl)}`;
      scopeSpans += `${scopeSpans === '' ? '' : ','}{"scope":${scopeJson(scope)},"spans":[${spansJson.join(',')}]${schemaUrl}}`;
    }
    const schemaUrl = resource.schemaUrl ? `,"schemaUrl":${JSON.stringify(resource.schemaUrl)}` : '';
    json += `${json === '' ? '' : ','}{"resource":${resourceJson(resource)},"scopeSpans":[${scopeSpans}]${schemaUrl}}`;
  }
  return `{"resourceSpans":[${json}]}`;
}

/**
 * The serializer of the OTLP/HTTP JSON span exporter `fusion serve` builds (the `serializer` of
 * `createOtlpHttpExportDelegate`): {@link otlpJsonOfSpans} as UTF-8, and the collector's JSON answer.
 */
export const otlpJsonSpanSerializer = {
  serializeRequest(spans: ReadableSpan[]): Uint8Array {
    return Buffer.from(otlpJsonOfSpans(spans), 'utf8');
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
