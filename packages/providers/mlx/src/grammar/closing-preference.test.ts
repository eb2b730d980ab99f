import { describe, expect, it } from 'vitest';
import { ClosingPreference } from './closing-preference.js';

const encoder = new TextEncoder();
/** Token ids: 0 `1`, 1 `,`, 2 `"`, 3 `}`, 4 `{`, 5 end of sequence (no bytes), 6 `ab`. */
const bytes = ['1', ',', '"', '}', '{', '', 'ab'].map((text) => encoder.encode(text));

function keep(allowedIds: number[]): number[] {
  const bitmask = new Int32Array(1);
  for (const id of allowedIds) bitmask[0]! |= 1 << id;
  new ClosingPreference(bytes, 1, [5]).restrict(bitmask);
  return [0, 1, 2, 3, 4, 5, 6].filter((id) => (bitmask[0]! >>> id) & 1);
}

describe('ClosingPreference', () => {
  it('keeps the allowed tokens of the class closest to the end: EOS, closers, quotes, separators, others, openers', () => {
    expect(keep([0, 1, 2, 3, 4, 5, 6])).toEqual([5]);
    expect(keep([0, 1, 2, 3, 4, 6])).toEqual([3]);
    expect(keep([0, 1, 2, 4, 6])).toEqual([2]);
    expect(keep([0, 1, 4, 6])).toEqual([1]);
    expect(keep([0, 4, 6])).toEqual([0, 6]);
    expect(keep([4])).toEqual([4]);
  });
});
