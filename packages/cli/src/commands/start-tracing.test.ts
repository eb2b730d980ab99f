import { describe, expect, it } from 'vitest';
import { otlpProtocol, tracingWanted } from './start-tracing.js';

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
