import { describe, expect, it } from 'vitest';
import { TopK } from './top-k.js';

describe('TopK', () => {
  it('keeps the k best scores, best first', () => {
    const best = new TopK<string>(3);
    const scores = [5, 1, 9, 3, 7, 2, 8];
    for (const [index, score] of scores.entries()) best.push(`item${index}`, score);
    expect(best.sorted()).toEqual([
      { item: 'item2', score: 9 },
      { item: 'item6', score: 8 },
      { item: 'item4', score: 7 },
    ]);
    expect(best.threshold).toBe(7);
  });

  it('holds fewer than k when fewer are pushed, and nothing for k 0', () => {
    const best = new TopK<number>(5);
    best.push(1, 0.5);
    expect(best.threshold).toBe(Number.NEGATIVE_INFINITY);
    expect(best.sorted()).toEqual([{ item: 1, score: 0.5 }]);
    const none = new TopK<number>(0);
    none.push(1, 1);
    expect(none.sorted()).toEqual([]);
  });
});
