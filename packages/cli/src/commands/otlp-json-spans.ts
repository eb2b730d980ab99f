import type { HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

export type Scope = ReadableSpan['instrumentationScope'];

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

/**
 * One finished span as its OTLP/JSON `Span` object (an element of a `scopeSpans` entry's `spans`), as
 * the SDK's `JsonTraceSerializer` writes it once parsed.
 */
export function otlpJsonOfSpan(span: ReadableSpan): string {
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

/** Finished spans of one instrumentation scope, in some encoding `TSpans` (comma-separated JSON spans). */
export interface ScopeSpans<TSpans> {
  scope: Scope;
  spans: TSpans;
}

/**
 * The OTLP/JSON `ExportTraceServiceRequest` around spans already written: grouped by resource and
 * then by scope key, in the order of the maps (the SDK's order: first appearance). The text between
 * the scopes' spans comes as strings, each scope's spans as they are, so that spans kept as bytes are
 * never turned back into text.
 */
export function otlpJsonRequestParts<TSpans>(
  resources: ReadonlyMap<Resource, ReadonlyMap<string, ScopeSpans<TSpans>>>,
): (string | TSpans)[] {
  const parts: (string | TSpans)[] = [];
  let text = '{"resourceSpans":[';
  let firstResource = true;
  for (const [resource, scopes] of resources) {
    text += `${firstResource ? '' : ','}{"resource":${resourceJson(resource)},"scopeSpans":[`;
    firstResource = false;
    let firstScope = true;
    for (const { scope, spans } of scopes.values()) {
      text += `${firstScope ? '' : ','}{"scope":${scopeJson(scope)},"spans":[`;
      firstScope = false;
      parts.push(text, spans);
      text = `]${scope.schemaUrl === undefined ? '' : `,"schemaUrl":${JSON.stringify(scope.schemaUrl)}`}}`;
    }
    text += `]${resource.schemaUrl ? `,"schemaUrl":${JSON.stringify(resource.schemaUrl)}` : ''}}`;
  }
  parts.push(`${text}]}`);
  return parts;
}

/** The scope key the SDK groups spans by (name, version and schema URL). */
export function scopeKey(scope: Scope): string {
  return `${scope.name}@${scope.version || ''}:${scope.schemaUrl || ''}`;
}
