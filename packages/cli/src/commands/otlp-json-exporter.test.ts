import { describe, expect, it } from 'vitest';
import { otlpJsonBatchSerializer } from './otlp-json-exporter.js';

describe('otlpJsonBatchSerializer', () => {
  it('reads a collector answer, empty or not', () => {
    expect(otlpJsonBatchSerializer.deserializeResponse(new Uint8Array())).toEqual({});
    expect(
      otlpJsonBatchSerializer.deserializeResponse(
        new TextEncoder().encode('{"partialSuccess":{"rejectedSpans":1}}'),
      ),
    ).toEqual({ partialSuccess: { rejectedSpans: 1 } });
    expect(otlpJsonBatchSerializer.deserializeResponse(new TextEncoder().encode('not json'))).toEqual({});
  });
});
