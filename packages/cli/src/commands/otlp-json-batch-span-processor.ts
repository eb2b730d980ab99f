import { type Context, context as contextApi, createContextKey, diag, TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OtlpJsonSpanBatch, SpanBytesPool } from './otlp-json-span-batch.js';

/** Where batches go: what `OTLPExporterBase` makes of an OTLP export delegate. */
export interface SpanBatchExporter {
  export(batch: OtlpJsonSpanBatch, resultCallback: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

/** `ExportResultCode.SUCCESS` of `@opentelemetry/core`. */
const SUCCESS = 0;

/**
 * The key `suppressTracing` of `@opentelemetry/core` sets (`createContextKey` is `Symbol.for`), so that
 * an instrumented HTTP client does not trace the export's own request.
 */
const SUPPRESS_TRACING = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/** The batching settings, as `BatchSpanProcessor` takes them. */
export interface BatchSettings {
  /** Spans per export. @default 512 (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`) */
  maxExportBatchSize?: number;
  /** Spans waiting at most; more are dropped. @default 2048 (`OTEL_BSP_MAX_QUEUE_SIZE`) */
  maxQueueSize?: number;
  /** The longest a span waits for a batch to fill, ms. @default 5000 (`OTEL_BSP_SCHEDULE_DELAY`) */
  scheduledDelayMillis?: number;
  /** How long an export may take before the next one starts, ms. @default 30000 (`OTEL_BSP_EXPORT_TIMEOUT`) */
  exportTimeoutMillis?: number;
}

/** A number from the environment, as `getNumberFromEnv` of `@opentelemetry/core` reads it. */
function numberFromEnv(env: Record<string, string | undefined>, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  return Number.isNaN(value) ? undefined : value;
}

/** {@link BatchSettings} from the `OTEL_BSP_*` variables. */
export function batchSettingsFromEnv(env: Record<string, string | undefined>): BatchSettings {
  const settings: BatchSettings = {};
  const read = (key: keyof BatchSettings, name: string) => {
    const value = numberFromEnv(env, name);
    if (value !== undefined) settings[key] = value;
  };
  read('maxExportBatchSize', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  read('maxQueueSize', 'OTEL_BSP_MAX_QUEUE_SIZE');
  read('scheduledDelayMillis', 'OTEL_BSP_SCHEDULE_DELAY');
  read('exportTimeoutMillis', 'OTEL_BSP_EXPORT_TIMEOUT');
  return settings;
}

/**
 * The SDK's `BatchSpanProcessor` for `fusion serve`'s OTLP/JSON exporter, with the same batching
 * (export when a batch is full or when its oldest span has waited `scheduledDelayMillis`, one export
 * at a time, spans dropped past `maxQueueSize`, everything sent at `forceFlush` and `shutdown`), but
 * each span is written to OTLP/JSON as it ends ({@link OtlpJsonSpanBatch}): a waiting span costs a
 * kilobyte of bytes off the heap, not an object graph that the garbage collector copies and promotes.
 */
export class OtlpJsonBatchSpanProcessor implements SpanProcessor {
  readonly #exporter: SpanBatchExporter;
  readonly #maxExportBatchSize: number;
  readonly #maxQueueSize: number;
  readonly #scheduledDelayMillis: number;
  readonly #exportTimeoutMillis: number;
  /** Waiting batches, oldest first; only the last one is still filling. */
  #batches: OtlpJsonSpanBatch[] = [];
  /** Buffers of sent batches, for the next ones: as many as the queue holds batches, and one being sent. */
  readonly #pool: SpanBytesPool;
  #queued = 0;
  #dropped = 0;
  #exporting = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #shutdown: Promise<void> | undefined;

  constructor(exporter: SpanBatchExporter, settings: BatchSettings = {}) {
    this.#exporter = exporter;
    this.#maxQueueSize = settings.maxQueueSize ?? 2048;
    this.#maxExportBatchSize = settings.maxExportBatchSize ?? 512;
    this.#scheduledDelayMillis = settings.scheduledDelayMillis ?? 5000;
    this.#exportTimeoutMillis = settings.exportTimeoutMillis ?? 30_000;
    if (this.#maxExportBatchSize > this.#maxQueueSize) {
      diag.warn(
        'BatchSpanProcessor: maxExportBatchSize must be smaller or equal to maxQueueSize, setting maxExportBatchSize to match maxQueueSize',
      );
      this.#maxExportBatchSize = this.#maxQueueSize;
    }
    this.#pool = new SpanBytesPool(Math.min(8, Math.ceil(this.#maxQueueSize / this.#maxExportBatchSize) + 1));
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#shutdown || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.#queued >= this.#maxQueueSize) {
      if (this.#dropped++ === 0) diag.debug('maxQueueSize reached, dropping spans');
      return;
    }
    if (this.#dropped > 0) {
      diag.warn(`Dropped ${this.#dropped} spans because maxQueueSize reached`);
      this.#dropped = 0;
    }
    let batch = this.#batches[this.#batches.length - 1];
    if (!batch || batch.count >= this.#maxExportBatchSize) {
      batch = new OtlpJsonSpanBatch(this.#pool);
      this.#batches.push(batch);
    }
    batch.add(span);
    this.#queued++;
    this.#maybeStartTimer();
  }

  forceFlush(): Promise<void> {
    return this.#shutdown ?? this.#flushAll();
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#flushAll().then(() => this.#exporter.shutdown());
    return this.#shutdown;
  }

  #flushAll(): Promise<void> {
    const flushes: Promise<void>[] = [];
    for (let count = this.#batches.length; count > 0; count--) flushes.push(this.#flushOneBatch());
    return Promise.all(flushes).then(() => {});
  }

  /** Exports the oldest batch; settles when the export did, or after `exportTimeoutMillis`. */
  #flushOneBatch(): Promise<void> {
    this.#clearTimer();
    const batch = this.#batches.shift();
    if (!batch) return Promise.resolve();
    this.#queued -= batch.count;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Timeout')), this.#exportTimeoutMillis);
      const send = () =>
        contextApi.with(contextApi.active().setValue(SUPPRESS_TRACING, true), () =>
          this.#exporter.export(batch, (result) => {
            // The exporter is done with the request's bytes (retries included): they can be reused.
            batch.release();
            clearTimeout(timer);
            if (result.code === SUCCESS) resolve();
            else reject(result.error ?? new Error('BatchSpanProcessor: span export failed'));
          }),
        );
      const pending: Promise<void>[] = [];
      for (const resource of batch.resources()) {
        if (resource.asyncAttributesPending && resource.waitForAsyncAttributes) {
          pending.push(resource.waitForAsyncAttributes());
        }
      }
      if (pending.length === 0) send();
      else Promise.all(pending).then(send, reject);
    });
  }

  #maybeStartTimer(): void {
    if (this.#exporting) return;
    const flush = () => {
      this.#exporting = true;
      this.#flushOneBatch()
        .catch((error: unknown) => diag.error('BatchSpanProcessor: export failed', error))
        .finally(() => {
          this.#exporting = false;
          if (this.#queued > 0) {
            this.#clearTimer();
            this.#maybeStartTimer();
          }
        });
    };
    // A full batch goes at once; otherwise the oldest waiting span waits at most the delay.
    if (this.#queued >= this.#maxExportBatchSize) {
      flush();
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(flush, this.#scheduledDelayMillis);
    this.#timer.unref?.();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
