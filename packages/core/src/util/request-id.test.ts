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

  it('draws every position at random across batches of random bytes, keeping the version and variant bits', () => {
    // 1000 ids span several draws of random bytes (128 ids each).
    const ids = Array.from({ length: 1000 }, () => createRequestId());
    expect(new Set(ids).size).toBe(1000);
    const digits = ids.map((id) => id.replaceAll('-', ''));
    for (let position = 0; position < 32; position++) {
      const seen = new Set(digits.map((hex) => hex[position]));
      if (position === 12) expect([...seen]).toEqual(['4']);
      else if (position === 16) expect([...seen].sort()).toEqual(['8', '9', 'a', 'b']);
      else expect(seen.size).toBe(16);
    }
  });
});
