import * as sdkSamplers from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { otlpProtocol, samplerFromEnv, startServeTracing, tracingWanted } from './start-tracing.js';

describe('otlpProtocol', () => {
  it('defaults to http/json (the cheaper to encode in fusion serve)', () => {
    expect(otlpProtocol({})).toEqual({ protocol: 'http/json' });
    expect(otlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual({ protocol: 'http/json' });
  });

  it('sends protobuf when asked, the traces variable winning over the general one', () => {
    expect(otlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })).toEqual({
      protocol: 'http/protobuf',
    });
    expect(
      otlpProtocol({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      }),
    ).toEqual({ protocol: 'http/protobuf' });
  });

  it('falls back to http/json for grpc or an unknown value, with a note', () => {
    const grpc = otlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(grpc.protocol).toBe('http/json');
    expect(grpc.note).toContain("'grpc' is not supported");
  });
});

describe('tracingWanted', () => {
  it('is on with FUSION_TRACING=1 or an endpoint, off with FUSION_TRACING=0', () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ FUSION_TRACING: '1' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', FUSION_TRACING: '0' })).toBe(
      false,
    );
  });
});

describe('samplerFromEnv', () => {
  const sampler = (env: Record<string, string>) => {
    const result = samplerFromEnv(env, sdkSamplers);
    return { sampler: result.sampler?.toString(), note: result.note };
  };

  it('builds the sampler OTEL_TRACES_SAMPLER names, as the SDK does', () => {
    expect(sampler({})).toEqual({ sampler: undefined, note: undefined });
    expect(sampler({ OTEL_TRACES_SAMPLER: 'always_off' }).sampler).toBe('AlwaysOffSampler');
    expect(sampler({ OTEL_TRACES_SAMPLER: 'always_on' }).sampler).toBe('AlwaysOnSampler');
    expect(sampler({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).sampler).toBe(
      'TraceIdRatioBased{0.25}',
    );
    const parentBased = sampler({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    });
    expect(parentBased.sampler).toMatch(/^ParentBased\{root=TraceIdRatioBased\{0\.1\}/);
    expect(parentBased.note).toBeUndefined();
    expect(sampler({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }).sampler).toMatch(
      /^ParentBased\{root=AlwaysOffSampler/,
    );
  });

  it('falls back as the SDK does, with a note: the default for an unknown sampler, 1 for a bad ratio', () => {
    const unknown = sampler({ OTEL_TRACES_SAMPLER: 'jaeger_remote' });
    expect(unknown.sampler).toBeUndefined();
    expect(unknown.note).toContain("OTEL_TRACES_SAMPLER 'jaeger_remote'");
    for (const arg of ['', 'half', '1.5', '-0.1']) {
      const bad = sampler({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg });
      expect(bad.sampler).toBe('TraceIdRatioBased{1}');
      expect(bad.note).toContain('OTEL_TRACES_SAMPLER_ARG');
    }
  });
});

describe('startServeTracing', () => {
  it('keeps the light provider with a sampler, and takes the SDK provider only for span limits', async () => {
    const { LightTracerProvider } = await import('./light-tracer-provider.js');
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' };
    const sampled = await startServeTracing({
      ...endpoint,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    });
    const limited = await startServeTracing({ ...endpoint, OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '8' });
    try {
      expect(sampled.tracerProvider).toBeInstanceOf(LightTracerProvider);
      expect(String((sampled.tracerProvider as InstanceType<typeof LightTracerProvider>).sampler)).toMatch(
        /^ParentBased\{root=TraceIdRatioBased\{0\.1\}/,
      );
      expect(limited.tracerProvider).toBeInstanceOf(sdkSamplers.BasicTracerProvider);
    } finally {
      await sampled.plugin.teardown?.();
      await limited.plugin.teardown?.();
    }
  });
});
