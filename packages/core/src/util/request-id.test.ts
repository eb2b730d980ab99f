import { describe, expect, it } from 'vitest';
import { createRequestId, requestIdFrom } from './request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFrom', () => {
  it('keeps a safe client id', () => {
    for (const id of ['abc', 'req-1', 'trace:span/1', 'a.b@c+d=e_f', 'x'.repeat(128)])
      expect(requestIdFrom(id)).toBe(id);
  });

  it('replaces a missing, long or unsafe id with a new UUID', () => {
    for (const id of [
      null,
      undefined,
      '',
      'x'.repeat(129),
      'with space',
      'line\nbreak',
      'cr\rlf',
      'tab\there',
      '<b>',
      '"q"',
      'ü',
    ]) {
      const result = requestIdFrom(id);
      expect(result).toMatch(UUID);
      expect(result).not.toBe(id);
    }
  });

  it('creates distinct UUIDs', () => {
    const ids = new Set(Array.from({ length: 100 }, () => createRequestId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(UUID);
  });
});
