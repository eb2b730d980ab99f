import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  otlpJsonOfSpan,
  otlpJsonRequestParts,
  type Scope,
  type ScopeSpans,
  scopeKey,
} from './otlp-json-spans.js';

/** The first capacity of a scope's bytes: about 64 spans, then doubled as needed. */
const FIRST_CAPACITY = 64 * 1024;

/** UTF-8 bytes that grow: spans of one scope, comma-separated. */
class SpanBytes {
  bytes: Buffer = Buffer.allocUnsafeSlow(FIRST_CAPACITY);
  length = 0;

  append(json: string): void {
    // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair is 4 bytes for 2 units), and a comma.
    const needed = this.length + 1 + json.length * 3;
    if (needed > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(needed, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    if (this.length > 0) this.bytes[this.length++] = 0x2c; // ','
    this.length += this.bytes.write(json, this.length);
  }
}

/**
 * Finished spans as OTLP/JSON, written when they end: a batch holds UTF-8 bytes outside the
 * JavaScript heap instead of the spans, their attributes and times. Spans wait seconds in a batch, so
 * kept as objects they outlive the young generation's collections, which copy them and promote them
 * to the old generation (most of the CPU tracing cost under load); written at once, the span is
 * garbage as soon as it ends. {@link OtlpJsonSpanBatch.toRequest} gives the
 * `ExportTraceServiceRequest` that `otlpJsonOfSpans` writes for the same spans.
 */
export class OtlpJsonSpanBatch {
  /** How many spans the batch holds. */
  count = 0;
  readonly #resources = new Map<Resource, Map<string, ScopeSpans<SpanBytes>>>();
  #lastResource: Resource | undefined;
  #lastScope: Scope | undefined;
  #last: SpanBytes | undefined;

  /** Writes `span` to the batch, grouped by its resource and scope. */
  add(span: ReadableSpan): void {
    this.#bytesOf(span.resource, span.instrumentationScope).append(otlpJsonOfSpan(span));
    this.count++;
  }

  /** The resources of the batch's spans, e.g. to wait for their asynchronous attributes. */
  resources(): IterableIterator<Resource> {
    return this.#resources.keys();
  }

  /** The OTLP/JSON `ExportTraceServiceRequest` of the batch's spans, as UTF-8. */
  toRequest(): Buffer {
    const parts = otlpJsonRequestParts(this.#resources).map((part) =>
      typeof part === 'string' ? Buffer.from(part, 'utf8') : part.bytes.subarray(0, part.length),
    );
    return Buffer.concat(parts);
  }

  #bytesOf(resource: Resource, scope: Scope): SpanBytes {
    // Spans of one tracer share their resource and scope objects: the scope's key is only built
    // when they change.
    if (resource === this.#lastResource && scope === this.#lastScope && this.#last) return this.#last;
    let scopes = this.#resources.get(resource);
    if (!scopes) {
      scopes = new Map();
      this.#resources.set(resource, scopes);
    }
    const key = scopeKey(scope);
    let entry = scopes.get(key);
    if (!entry) {
      entry = { scope, spans: new SpanBytes() };
      scopes.set(key, entry);
    }
    this.#lastResource = resource;
    this.#lastScope = scope;
    this.#last = entry.spans;
    return entry.spans;
  }
}
