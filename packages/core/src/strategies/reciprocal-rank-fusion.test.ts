import { describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from './reciprocal-rank-fusion.js';

const list = (...ids: string[]) => ids.map((id, index) => ({ id, score: 100 - index }));

describe('reciprocalRankFusion', () => {
  it('scores each id by the sum of 1 / (60 + rank)', () => {
    const fused = reciprocalRankFusion([list('a', 'b', 'c'), list('b', 'd')]);
    expect(fused.map((item) => item.id)).toEqual(['b', 'a', 'd', 'c']);
    expect(fused[0]!.score).toBeCloseTo(1 / 62 + 1 / 61, 12);
    expect(fused[1]!.score).toBeCloseTo(1 / 61, 12);
  });

  it('applies per-list weights and k', () => {
    const fused = reciprocalRankFusion([list('a', 'b'), list('b', 'a')], { k: 0, weights: [1, 3] });
    expect(fused.map((item) => item.id)).toEqual(['b', 'a']);
    expect(fused[0]!.score).toBeCloseTo(1 / 2 + 3 / 1, 12);
    expect(reciprocalRankFusion([list('a'), list('b')], { weights: [0, 1] }).map((item) => item.id)).toEqual([
      'b',
    ]);
  });

  it('ignores the scores, counts an id once per list, and breaks ties by first appearance', () => {
    const fused = reciprocalRankFusion([
      [
        { id: 'x', score: -5 },
        { id: 'x', score: 9 },
        { id: 'y', score: 1 },
      ],
      list('y', 'x'),
    ]);
    expect(fused.map((item) => item.id)).toEqual(['x', 'y']);
    expect(fused[0]!.score).toBeCloseTo(fused[1]!.score, 12);
  });

  it('handles empty input and rejects a negative k', () => {
    expect(reciprocalRankFusion([])).toEqual([]);
    expect(reciprocalRankFusion([[], []])).toEqual([]);
    expect(() => reciprocalRankFusion([list('a')], { k: -1 })).toThrow(RangeError);
  });
});
