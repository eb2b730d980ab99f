import { describe, expect, it } from 'vitest';
import { float32Base64 } from './base64.js';

function decode(base64: string): number[] {
  const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  return [...new Float32Array(bytes.buffer)];
}

describe('float32Base64', () => {
  it('encodes little-endian float32 bytes as OpenAI does', () => {
    // 1.0f is 0x3f800000: bytes 00 00 80 3f.
    expect(float32Base64([1])).toBe('AACAPw==');
    expect(decode(float32Base64([0.5, -2, 0.1]))).toEqual([0.5, -2, Math.fround(0.1)]);
    expect(float32Base64([])).toBe('');
  });

  it('handles vectors larger than one encoding step', () => {
    const vector = Array.from({ length: 20_000 }, (_, index) => Math.sin(index));
    expect(decode(float32Base64(vector))).toEqual(vector.map((value) => Math.fround(value)));
  });
});
