import { randomFillSync } from 'node:crypto';
import {
  type Attributes,
  type AttributeValue,
  type Context,
  context as contextApi,
  type Exception,
  type HrTime,
  isSpanContextValid,
  type Link,
  type Span,
  type SpanAttributes,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, Sampler, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';

/** `SamplingDecision` of `@opentelemetry/sdk-trace-base` (a value import would load the SDK here). */
const NOT_RECORD = 0;
const RECORD_AND_SAMPLED = 2;

/** The time origin of every span, in ms since the epoch: `performance.now()` is added to it. */
const ORIGIN_MS = Date.now() - performance.now();

function hrTimeOfMillis(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000);
  return [seconds, Math.round((epochMs - seconds * 1000) * 1e6)];
}

function hrTimeOf(input: TimeInput | undefined): HrTime {
  if (input === undefined) return hrTimeOfMillis(ORIGIN_MS + performance.now());
  if (Array.isArray(input)) return input;
  if (input instanceof Date) return hrTimeOfMillis(input.getTime());
  // A number below the current `performance.now()` is a performance timestamp, as in the SDK.
  return hrTimeOfMillis(input <= performance.now() ? ORIGIN_MS + input : input);
}

/** `end - start`, or undefined when `end` comes first. */
function duration(start: HrTime, end: HrTime): HrTime | undefined {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1e9;
  }
  return seconds < 0 ? undefined : [seconds, nanos];
}

/**
 * Random ids, cut from the hex of a pool of random bytes: one `randomFillSync` and one hex
 * conversion per few hundred ids (an id is a slice of the pool's hex, not a conversion of its own).
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolHex = '';
let poolOffset = 0;
const ZEROS = { 8: '0'.repeat(16), 16: '0'.repeat(32) } as Record<number, string>;

/** `bytes` random bytes as hex, never all zeros (an invalid id). */
function randomHex(bytes: 8 | 16): string {
  const digits = bytes * 2;
  if (poolOffset + digits > poolHex.length) {
    randomFillSync(pool);
    poolHex = pool.toString('hex');
    poolOffset = 0;
  }
  const id = poolHex.slice(poolOffset, (poolOffset += digits));
  return id === ZEROS[bytes] ? randomHex(bytes) : id;
}

/** Values every span starts with, shared (never mutated: a span replaces them). */
const NO_LINKS: Link[] = Object.freeze([]) as unknown as Link[];
const NO_EVENTS: TimedEvent[] = Object.freeze([]) as unknown as TimedEvent[];
const NOT_ENDED: HrTime = Object.freeze([0, 0]) as unknown as HrTime;
const NO_DURATION: HrTime = Object.freeze([-1, -1]) as unknown as HrTime;
const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });

function isAttributeValue(value: unknown): value is AttributeValue {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || Array.isArray(value);
}

/**
 * A span that is also the SDK's `ReadableSpan`: what span processors and exporters take. It does what
 * the SDK's span does for a sampled span, minus span limits (the provider is only used when none are
 * configured) and diagnostics.
 */
class LightSpan implements Span, ReadableSpan {
  readonly attributes: Attributes = {};
  // Shared, empty and frozen until a first link or event: most spans have none, and every object a
  // span holds lives (and is copied by the young-generation GC) until its batch is exported.
  links: Link[] = NO_LINKS;
  events: TimedEvent[] = NO_EVENTS;
  readonly startTime: HrTime;
  endTime: HrTime = NOT_ENDED;
  duration: HrTime = NO_DURATION;
  ended = false;
  status: SpanStatus = UNSET;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;

  constructor(
    public name: string,
    readonly kind: SpanKind,
    readonly spanContextValue: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    readonly resource: Resource,
    readonly instrumentationScope: { name: string; version?: string; schemaUrl?: string },
    readonly processor: SpanProcessor,
    options: SpanOptions,
  ) {
    this.startTime = hrTimeOf(options.startTime);
    if (options.attributes) this.setAttributes(options.attributes);
    if (options.links) this.addLinks(options.links);
  }

  spanContext(): SpanContext {
    return this.spanContextValue;
  }

  setAttribute(key: string, value: SpanAttributes[string]): this {
    if (!this.ended && key.length > 0 && isAttributeValue(value)) this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: SpanAttributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: SpanAttributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const isTime =
      typeof attributesOrTime === 'number' ||
      Array.isArray(attributesOrTime) ||
      attributesOrTime instanceof Date;
    const attributes: Attributes = {};
    if (attributesOrTime && !isTime) {
      for (const key in attributesOrTime) {
        const value = (attributesOrTime as SpanAttributes)[key];
        if (isAttributeValue(value)) attributes[key] = value;
      }
    }
    if (this.events === NO_EVENTS) this.events = [];
    this.events.push({
      name,
      attributes,
      time: hrTimeOf(isTime ? (attributesOrTime as TimeInput) : time),
      droppedAttributesCount: 0,
    });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) return this;
    if (this.links === NO_LINKS) this.links = [];
    this.links.push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.ended || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK)
      return this;
    this.status =
      status.code === SpanStatusCode.ERROR && typeof status.message === 'string'
        ? { code: status.code, message: status.message }
        : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.endTime = hrTimeOf(endTime);
    const elapsed = duration(this.startTime, this.endTime);
    if (elapsed) {
      this.duration = elapsed;
    } else {
      // An end before the start (a caller's clock): a zero-length span, as the SDK makes it.
      this.endTime = this.startTime;
      this.duration = [0, 0];
    }
    this.ended = true;
    this.processor.onEnd(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') {
      attributes['exception.message'] = exception;
    } else {
      const type = exception.code?.toString() ?? exception.name;
      if (type) attributes['exception.type'] = type;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    this.addEvent('exception', attributes, time);
  }
}

class LightTracer implements Tracer {
  constructor(
    readonly provider: LightTracerProvider,
    readonly scope: { name: string; version?: string; schemaUrl?: string },
  ) {}

  startSpan(name: string, options: SpanOptions = {}, context: Context = contextApi.active()): Span {
    const parentSpan = options.root ? undefined : trace.getSpan(context);
    const parent = parentSpan?.spanContext();
    // A parent made here has valid ids by construction: only others' (a caller's traceparent) are checked.
    const validParent =
      parent && (parentSpan instanceof LightSpan || isSpanContextValid(parent)) ? parent : undefined;
    const spanId = randomHex(8);
    const { sampler } = this.provider;
    if (sampler !== undefined) return this.#sampledSpan(sampler, name, options, context, validParent, spanId);
    // The SDK's default sampler, parent-based always-on: a child follows its parent's decision.
    if (validParent && (validParent.traceFlags & TraceFlags.SAMPLED) === 0) {
      return trace.wrapSpanContext({
        traceId: validParent.traceId,
        spanId,
        traceFlags: TraceFlags.NONE,
        ...(validParent.traceState ? { traceState: validParent.traceState } : {}),
      });
    }
    const spanContext: SpanContext = {
      traceId: validParent?.traceId ?? randomHex(16),
      spanId,
      traceFlags: TraceFlags.SAMPLED,
      ...(validParent?.traceState ? { traceState: validParent.traceState } : {}),
    };
    return this.#record(name, options.kind ?? SpanKind.INTERNAL, spanContext, validParent, options, context);
  }

  /** A recording span, handed to the processor as it starts. */
  #record(
    name: string,
    kind: SpanKind,
    spanContext: SpanContext,
    validParent: SpanContext | undefined,
    options: SpanOptions,
    context: Context,
  ): LightSpan {
    const { processor, resource } = this.provider;
    const span = new LightSpan(
      name,
      kind,
      spanContext,
      validParent,
      resource,
      this.scope,
      processor,
      options,
    );
    processor.onStart(span, context);
    return span;
  }

  /**
   * A span under a configured sampler, as the SDK's tracer makes it: the sampler decides from the
   * parent context, the trace id, the name, kind, attributes and links; a span it does not record is
   * a non-recording span that still carries the ids (and goes upstream as `traceparent`).
   */
  #sampledSpan(
    sampler: Sampler,
    name: string,
    options: SpanOptions,
    context: Context,
    validParent: SpanContext | undefined,
    spanId: string,
  ): Span {
    const traceId = validParent?.traceId ?? randomHex(16);
    const kind = options.kind ?? SpanKind.INTERNAL;
    const result = sampler.shouldSample(
      context,
      traceId,
      name,
      kind,
      options.attributes ?? {},
      options.links ?? [],
    );
    const traceState = result.traceState ?? validParent?.traceState;
    const spanContext: SpanContext = {
      traceId,
      spanId,
      traceFlags: result.decision === RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
      ...(traceState ? { traceState } : {}),
    };
    if (result.decision === NOT_RECORD) return trace.wrapSpanContext(spanContext);
    // A sampler's own attributes join the span's, as the SDK's tracer adds them.
    const withSamplerAttributes = result.attributes
      ? { ...options, attributes: { ...options.attributes, ...result.attributes } }
      : options;
    return this.#record(name, kind, spanContext, validParent, withSamplerAttributes, context);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest.pop() as (span: Span) => ReturnType<F>;
    const [options, context = contextApi.active()] = rest as [SpanOptions | undefined, Context | undefined];
    const span = this.startSpan(name, options, context);
    return contextApi.with(trace.setSpan(context, span), fn, undefined, span) as ReturnType<F>;
  }
}

export interface LightTracerProviderOptions {
  /** The resource of every span (`service.name`). */
  resource: Resource;
  /** Where ended spans go, e.g. a `BatchSpanProcessor` in front of an OTLP exporter. */
  processor: SpanProcessor;
  /**
   * Decides which spans are recorded, as the SDK's `sampler` option (e.g. the `ParentBasedSampler`
   * over a `TraceIdRatioBasedSampler` that `OTEL_TRACES_SAMPLER=parentbased_traceidratio` asks for).
   * @default the SDK's default, parent-based always-on (decided without a sampler object)
   */
  sampler?: Sampler;
}

/**
 * A tracer provider for `fusion serve` whose spans cost less CPU than the SDK's: standard
 * `ReadableSpan`s, sampled as the SDK samples by default (parent-based, always on) or by the SDK
 * sampler given, handed to an SDK span processor and exporter. It has no span limits: `fusion serve`
 * uses the SDK's provider when a span limit is set.
 */
export class LightTracerProvider implements TracerProvider {
  readonly resource: Resource;
  readonly processor: SpanProcessor;
  readonly sampler: Sampler | undefined;
  readonly #tracers = new Map<string, LightTracer>();

  constructor(options: LightTracerProviderOptions) {
    this.resource = options.resource;
    this.processor = options.processor;
    this.sampler = options.sampler;
  }

  getTracer(name: string, version?: string, options?: { schemaUrl?: string }): Tracer {
    const key = `${name}@${version ?? ''}:${options?.schemaUrl ?? ''}`;
    let tracer = this.#tracers.get(key);
    if (!tracer) {
      tracer = new LightTracer(this, {
        name,
        ...(version ? { version } : {}),
        ...(options?.schemaUrl ? { schemaUrl: options.schemaUrl } : {}),
      });
      this.#tracers.set(key, tracer);
    }
    return tracer;
  }

  forceFlush(): Promise<void> {
    return this.processor.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.processor.shutdown();
  }
}
