import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { contextOfTraceparent } from './parse-traceparent.js';

const spanContextOf = (header: string | undefined) => trace.getSpanContext(contextOfTraceparent(header));

describe('contextOfTraceparent', () => {
  it('reads a W3C traceparent as a remote parent', () => {
    expect(spanContextOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
  });

  it('starts a new trace for a missing, malformed, all-zero or version ff header', () => {
    for (const header of [
      undefined,
      'garbage',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    ]) {
      expect(spanContextOf(header)).toBeUndefined();
    }
  });
});
