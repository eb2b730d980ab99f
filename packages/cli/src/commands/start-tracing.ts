import type { PluginV1 } from '@fusionkit/core';
import type { TracerProvider } from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace-base';

/** The variables that decide whether `fusion serve` traces. */
export interface TracingEnv {
  FUSION_TRACING?: string | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
  /** `http/json` (the default) or `http/protobuf`. */
  OTEL_EXPORTER_OTLP_PROTOCOL?: string | undefined;
  /** As {@link TracingEnv.OTEL_EXPORTER_OTLP_PROTOCOL}, for traces only; wins over it. */
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string | undefined;
  /** Any other variable: a span limit (`OTEL_SPAN_*`, `OTEL_ATTRIBUTE_*`, …) makes tracing use the SDK's provider. */
  [name: string]: string | undefined;
}

/**
 * Whether the SDK's own tracer provider is needed: span limits from the environment, which only it
 * applies. Otherwise the lighter provider makes the same spans for less CPU (with the sampler the
 * environment asks for: {@link samplerFromEnv}).
 */
function sdkProviderNeeded(env: TracingEnv): boolean {
  return Object.keys(env).some(
    (name) =>
      name.startsWith('OTEL_SPAN_') ||
      name.startsWith('OTEL_ATTRIBUTE_') ||
      name.startsWith('OTEL_EVENT_') ||
      name.startsWith('OTEL_LINK_'),
  );
}

/** The sampler classes of `@opentelemetry/sdk-trace-base` (imported only when tracing starts). */
export interface SdkSamplers {
  AlwaysOnSampler: new () => Sampler;
  AlwaysOffSampler: new () => Sampler;
  TraceIdRatioBasedSampler: new (ratio?: number) => Sampler;
  ParentBasedSampler: new (config: { root: Sampler }) => Sampler;
}

/** The values of `OTEL_TRACES_SAMPLER` that the SDK (and so `fusion serve`) knows. */
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/**
 * The sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` ask for, as the SDK builds it from
 * them (its `buildSamplerFromEnv`): `undefined` when the variable is unset (the default,
 * parent-based always-on, which the light provider decides without a sampler object). An unknown
 * sampler, or a ratio that is blank, not a number or outside 0–1, falls back as the SDK falls back
 * (to the default; to 1), with a note for the startup log instead of the SDK's diagnostic.
 */
export function samplerFromEnv(
  env: TracingEnv,
  sdk: SdkSamplers,
): { sampler: Sampler | undefined; note?: string } {
  const name = env.OTEL_TRACES_SAMPLER?.trim() ?? '';
  if (name === '') return { sampler: undefined };
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    return {
      sampler: undefined,
      note: `tracing: OTEL_TRACES_SAMPLER '${name}' is not one of ${SAMPLERS.join(', ')}; using parentbased_always_on`,
    };
  }
  let note: string | undefined;
  const ratio = () => {
    const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim() ?? '';
    const value = raw === '' ? Number.NaN : Number(raw);
    if (Number.isNaN(value) || value < 0 || value > 1) {
      note = `tracing: OTEL_TRACES_SAMPLER_ARG '${raw}' is not a ratio from 0 to 1; using 1`;
      return 1;
    }
    return value;
  };
  const root = name.endsWith('always_on')
    ? new sdk.AlwaysOnSampler()
    : name.endsWith('always_off')
      ? new sdk.AlwaysOffSampler()
      : new sdk.TraceIdRatioBasedSampler(ratio());
  const sampler = name.startsWith('parentbased_') ? new sdk.ParentBasedSampler({ root }) : root;
  return note === undefined ? { sampler } : { sampler, note };
}

/** Tracing started for `fusion serve`: the provider to give `attachFusionTracing`, and the plugin that flushes it at close. */
export interface ServeTracing {
  tracerProvider: TracerProvider;
  /** Ends the provider when the orchestrator closes: spans still batched are sent first. */
  plugin: PluginV1;
  /** Where spans go, for the startup log. */
  endpoint: string;
  /** How they are encoded: `http/json` or `http/protobuf`. */
  protocol: OtlpHttpProtocol;
  /** Why the protocol or sampler asked for is not the one used (an unknown value, `grpc`, a ratio out of range), for the startup log. */
  note?: string;
}

/** The OTLP transports `fusion serve` exports spans over. */
export type OtlpHttpProtocol = 'http/protobuf' | 'http/json';

/**
 * The protocol from `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL`, by
 * default `http/json`. The spec's default is `http/protobuf` (2.5× smaller on the wire), but CPU per
 * request is what tracing must save, and JSON costs `fusion serve` less: its JSON exporter writes the
 * text directly (`otlp-json-spans.ts`, about 19k instructions per span in batches of 512, against 35k
 * for the SDK's JSON serializer and 42k for its protobuf one). `grpc` or an unknown value falls back
 * to the default, with a note saying so.
 */
export function otlpProtocol(env: TracingEnv): { protocol: OtlpHttpProtocol; note?: string } {
  const asked = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || '').trim();
  if (asked === '' || asked === 'http/json') return { protocol: 'http/json' };
  if (asked === 'http/protobuf') return { protocol: 'http/protobuf' };
  return {
    protocol: 'http/json',
    note: `tracing: OTLP protocol '${asked}' is not supported by fusion serve; using http/json (or set http/protobuf)`,
  };
}

/**
 * Whether `fusion serve` traces: `FUSION_TRACING=1`, or an OTLP endpoint in the environment
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) unless `FUSION_TRACING=0`.
 */
export function tracingWanted(env: TracingEnv): boolean {
  if (env.FUSION_TRACING === '0') return false;
  return (
    env.FUSION_TRACING === '1' ||
    Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  );
}

/**
 * Starts OpenTelemetry tracing for `fusion serve`: a tracer provider with a batching OTLP/HTTP
 * exporter, JSON (`OtlpJsonBatchSpanProcessor` over `createOtlpJsonBatchExporter`) or the SDK's protobuf one as
 * {@link otlpProtocol} picks (both read the standard `OTEL_EXPORTER_OTLP_*` variables: endpoint,
 * headers, timeout, compression), resource `service.name` from `OTEL_SERVICE_NAME` (default
 * `fusion`), registered as the global provider. The provider is {@link LightTracerProvider} (the
 * SDK's default sampling, less CPU per span) unless the environment sets a sampler or span limits,
 * which the SDK's provider applies. The SDK packages are imported here only, so a server that does
 * not trace never loads them.
 */
export async function startServeTracing(env: TracingEnv): Promise<ServeTracing> {
  const { protocol, note } = otlpProtocol(env);
  const [{ trace }, sdkTrace, processor, { resourceFromAttributes }, { LightTracerProvider }] =
    await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-base'),
      protocol === 'http/protobuf'
        ? Promise.all([
            import('@opentelemetry/exporter-trace-otlp-proto'),
            import('@opentelemetry/sdk-trace-base'),
          ]).then(
            ([{ OTLPTraceExporter }, { BatchSpanProcessor }]) =>
              new BatchSpanProcessor(new OTLPTraceExporter()),
          )
        : Promise.all([
            import('./otlp-json-exporter.js'),
            import('./otlp-json-batch-span-processor.js'),
          ]).then(
            ([{ createOtlpJsonBatchExporter }, { OtlpJsonBatchSpanProcessor, batchSettingsFromEnv }]) =>
              new OtlpJsonBatchSpanProcessor(createOtlpJsonBatchExporter(), batchSettingsFromEnv(env)),
          ),
      import('@opentelemetry/resources'),
      import('./light-tracer-provider.js'),
    ]);
  const resource = resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'fusion' });
  const sampled = samplerFromEnv(env, sdkTrace);
  const tracerProvider = sdkProviderNeeded(env)
    ? // The SDK's provider reads the sampler variables itself.
      new sdkTrace.BasicTracerProvider({ resource, spanProcessors: [processor] })
    : new LightTracerProvider({
        resource,
        processor,
        ...(sampled.sampler ? { sampler: sampled.sampler } : {}),
      });
  const notes = [note, sampled.note].filter((line): line is string => line !== undefined);
  trace.setGlobalTracerProvider(tracerProvider);
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    `${(env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`;
  return {
    tracerProvider,
    endpoint,
    protocol,
    ...(notes.length > 0 ? { note: notes.join('\n') } : {}),
    plugin: {
      specificationVersion: 'v1',
      name: 'serve-tracing',
      setup() {},
      async teardown() {
        await tracerProvider.shutdown().catch(() => {});
      },
    },
  };
}
