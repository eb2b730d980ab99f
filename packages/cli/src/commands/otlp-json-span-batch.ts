import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  otlpJsonOfSpan,
  otlpJsonRequestParts,
  type Scope,
  type ScopeSpans,
  scopeKey,
} from './otlp-json-spans.js';

/** The first capacity of a batch's bytes: about 64 spans, then doubled as needed. */
const FIRST_CAPACITY = 64 * 1024;

/**
 * Buffers of exported batches, for the next batches: a batch of 512 spans fills about 400 kB, which
 * as a fresh buffer each time is external memory that V8 answers with collections.
 */
export class SpanBytesPool {
  readonly #free: Buffer[] = [];

  constructor(readonly limit = 4) {}

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(FIRST_CAPACITY);
  }

  give(bytes: Buffer): void {
    if (this.#free.length < this.limit) this.#free.push(bytes);
  }
}

/** UTF-8 bytes that grow: spans of one scope, comma-separated, from {@link SpanBytes.start}. */
class SpanBytes {
  bytes: Buffer;
  /** Where the spans start: the first scope of a batch leaves room for the request's opening. */
  start: number;
  length: number;

  constructor(bytes: Buffer, opening: string) {
    this.bytes = bytes;
    this.start = 0;
    this.length = 0;
    if (opening !== '') {
      this.#reserve(opening.length * 3);
      this.start = this.length = this.bytes.write(opening, 0);
    }
  }

  append(json: string): void {
    // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair is 4 bytes for 2 units), and a comma.
    this.#reserve(1 + json.length * 3);
    if (this.length > this.start) this.bytes[this.length++] = 0x2c; // ','
    this.length += this.bytes.write(json, this.length);
  }

  /** The bytes with `closing` written after the spans, from the start of the buffer. */
  close(closing: string): Buffer {
    this.#reserve(closing.length * 3);
    const end = this.length + this.bytes.write(closing, this.length);
    return this.bytes.subarray(0, end);
  }

  #reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.bytes.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(needed, this.bytes.length * 2));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}

/**
 * Finished spans as OTLP/JSON, written when they end: a batch holds UTF-8 bytes outside the
 * JavaScript heap instead of the spans, their attributes and times. Spans wait seconds in a batch, so
 * kept as objects they outlive the young generation's collections, which copy them and promote them
 * to the old generation; written at once, the span is garbage as soon as it ends.
 * {@link OtlpJsonSpanBatch.toRequest} gives the `ExportTraceServiceRequest` of the spans, as the
 * SDK's `JsonTraceSerializer` writes it once parsed: with one resource and scope (a tracer's spans, as `fusion serve` makes
 * them), the batch's own buffer, written around the spans in place.
 */
export class OtlpJsonSpanBatch {
  /** How many spans the batch holds. */
  count = 0;
  readonly #pool: SpanBytesPool;
  readonly #resources = new Map<Resource, Map<string, ScopeSpans<SpanBytes>>>();
  #groups = 0;
  #first: SpanBytes | undefined;
  #lastResource: Resource | undefined;
  #lastScope: Scope | undefined;
  #last: SpanBytes | undefined;

  /**
   * `pool`: where the batch's buffers come from, and go back to at {@link OtlpJsonSpanBatch.release}
   * (by default one that keeps none).
   */
  constructor(pool: SpanBytesPool = new SpanBytesPool(0)) {
    this.#pool = pool;
  }

  /** Writes `span` to the batch, grouped by its resource and scope. */
  add(span: ReadableSpan): void {
    this.#bytesOf(span.resource, span.instrumentationScope).append(otlpJsonOfSpan(span));
    this.count++;
  }

  /** The resources of the batch's spans, e.g. to wait for their asynchronous attributes. */
  resources(): IterableIterator<Resource> {
    return this.#resources.keys();
  }

  /** The OTLP/JSON `ExportTraceServiceRequest` of the batch's spans, as UTF-8 (valid until {@link release}). */
  toRequest(): Uint8Array {
    const parts = otlpJsonRequestParts(this.#resources);
    if (this.#groups === 1 && this.#first) return this.#first.close(parts[2] as string);
    return Buffer.concat(
      parts.map((part) =>
        typeof part === 'string' ? Buffer.from(part, 'utf8') : part.bytes.subarray(part.start, part.length),
      ),
    );
  }

  /** Gives the batch's buffers back to its pool, once its request is sent: the batch is empty then. */
  release(): void {
    for (const scopes of this.#resources.values()) {
      for (const { spans } of scopes.values()) this.#pool.give(spans.bytes);
    }
    this.#resources.clear();
    this.#groups = 0;
    this.#first = this.#last = this.#lastResource = this.#lastScope = undefined;
    this.count = 0;
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
      const buffer = this.#pool.take();
      // The first scope's buffer starts with the request's opening, as if it stayed the only one.
      const opening =
        this.#groups === 0
          ? (otlpJsonRequestParts(
              new Map([[resource, new Map([[key, { scope, spans: null }]])]]),
            )[0] as string)
          : '';
      entry = { scope, spans: new SpanBytes(buffer, opening) };
      scopes.set(key, entry);
      this.#groups++;
      this.#first ??= entry.spans;
    }
    this.#lastResource = resource;
    this.#lastScope = scope;
    this.#last = entry.spans;
    return entry.spans;
  }
}

/**
 * The OTLP/JSON `ExportTraceServiceRequest` of finished spans, as text: what the SDK's
 * `JsonTraceSerializer` sends (the same JSON once parsed, spans grouped by resource and by
 * instrumentation scope in the same order), written by an {@link OtlpJsonSpanBatch}.
 */
export function otlpJsonOfSpans(spans: readonly ReadableSpan[]): string {
  const batch = new OtlpJsonSpanBatch();
  for (const span of spans) batch.add(span);
  const request = batch.toRequest();
  return Buffer.from(request.buffer, request.byteOffset, request.byteLength).toString('utf8');
}
