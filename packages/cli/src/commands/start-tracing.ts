import type { PluginV1 } from '@fusionkit/core';
import type { TracerProvider } from '@opentelemetry/api';

/** The variables that decide whether `fusion serve` traces. */
export interface TracingEnv {
  FUSION_TRACING?: string | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
  /** Any other variable: a sampler (`OTEL_TRACES_SAMPLER`) or span limit makes tracing use the SDK's provider. */
  [name: string]: string | undefined;
}

/**
 * Whether the SDK's own tracer provider is needed: a sampler or span limits from the environment,
 * which only it reads. Otherwise the lighter provider makes the same spans for less CPU.
 */
function sdkProviderNeeded(env: TracingEnv): boolean {
  return Object.keys(env).some(
    (name) =>
      name === 'OTEL_TRACES_SAMPLER' ||
      name === 'OTEL_TRACES_SAMPLER_ARG' ||
      name.startsWith('OTEL_SPAN_') ||
      name.startsWith('OTEL_ATTRIBUTE_') ||
      name.startsWith('OTEL_EVENT_') ||
      name.startsWith('OTEL_LINK_'),
  );
}

/** Tracing started for `fusion serve`: the provider to give `attachFusionTracing`, and the plugin that flushes it at close. */
export interface ServeTracing {
  tracerProvider: TracerProvider;
  /** Ends the provider when the orchestrator closes: spans still batched are sent first. */
  plugin: PluginV1;
  /** Where spans go, for the startup log. */
  endpoint: string;
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
 * exporter (which reads the standard `OTEL_EXPORTER_OTLP_*` variables: endpoint, headers, timeout),
 * resource `service.name` from `OTEL_SERVICE_NAME` (default `fusion`), registered as the global
 * provider. The provider is {@link LightTracerProvider} (the SDK's default sampling, less CPU per
 * span) unless the environment sets a sampler or span limits, which the SDK's provider applies.
 * The SDK packages are imported here only, so a server that does not trace never loads them.
 */
export async function startServeTracing(env: TracingEnv): Promise<ServeTracing> {
  const [
    { trace },
    { BasicTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { LightTracerProvider },
  ] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('./light-tracer-provider.js'),
  ]);
  const resource = resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'fusion' });
  const processor = new BatchSpanProcessor(new OTLPTraceExporter());
  const tracerProvider = sdkProviderNeeded(env)
    ? new BasicTracerProvider({ resource, spanProcessors: [processor] })
    : new LightTracerProvider({ resource, processor });
  trace.setGlobalTracerProvider(tracerProvider);
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    `${(env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`;
  return {
    tracerProvider,
    endpoint,
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
