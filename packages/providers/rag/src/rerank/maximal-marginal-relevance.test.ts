import { describe, expect, it } from 'vitest';
import { cosine, maximalMarginalRelevance, wordOverlap } from './maximal-marginal-relevance.js';

const ranked = [
  { id: 'a', score: 10 },
  { id: 'a-copy', score: 9.9 },
  { id: 'b', score: 5 },
  { id: 'c', score: 1 },
];
const same = (left: string, right: string) =>
  left.replace('-copy', '') === right.replace('-copy', '') ? 1 : 0;

describe('maximalMarginalRelevance', () => {
  it('skips a near-copy of a pick for the next most relevant different chunk', () => {
    expect(maximalMarginalRelevance(ranked, 2, same, 0.5).map((item) => item.id)).toEqual(['a', 'b']);
    expect(maximalMarginalRelevance(ranked, 3, same, 0.5).map((item) => item.id)).toEqual(['a', 'b', 'c']);
  });

  it('is plain ranking at lambda 1, keeps scores, and handles short lists', () => {
    expect(maximalMarginalRelevance(ranked, 2, same, 1)).toEqual(ranked.slice(0, 2));
    expect(maximalMarginalRelevance(ranked, 2, same, 0.5)[1]).toEqual({ id: 'b', score: 5 });
    expect(maximalMarginalRelevance([], 3, same)).toEqual([]);
    expect(maximalMarginalRelevance(ranked.slice(0, 1), 3, same)).toEqual(ranked.slice(0, 1));
  });
});

describe('similarities', () => {
  it('cosine and word overlap', () => {
    expect(cosine([1, 0], [1, 0])).toBe(1);
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([0, 0], [1, 0])).toBe(0);
    expect(wordOverlap('Ports need root', 'ports NEED root')).toBe(1);
    expect(wordOverlap('ports need root', 'bananas')).toBe(0);
    expect(wordOverlap('a b', 'b c')).toBeCloseTo(1 / 3);
  });
});
