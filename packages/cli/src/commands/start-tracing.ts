import type { PluginV1 } from '@fusionkit/core';
import type { TracerProvider } from '@opentelemetry/api';

/** The variables that decide whether `fusion serve` traces. */
export interface TracingEnv {
  FUSION_TRACING?: string | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
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
 * provider. The SDK packages are imported here only, so a server that does not trace never loads them.
 */
export async function startServeTracing(env: TracingEnv): Promise<ServeTracing> {
  const [
    { trace },
    { BasicTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
  ] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const exporter = new OTLPTraceExporter();
  const tracerProvider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'fusion' }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
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
