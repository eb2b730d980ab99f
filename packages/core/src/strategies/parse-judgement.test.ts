import { describe, expect, it } from 'vitest';
import { parseJudgement } from './parse-judgement.js';

describe('parseJudgement', () => {
  it.each([
    ['{"best": 2, "reason": "clear"}', { best: 2, reason: 'clear' }],
    [
      'Here you go:\n```json\n{ "best": "Candidate 3", "reason": "has {braces} and \\"quotes\\"" }\n```',
      { best: 3, reason: 'has {braces} and "quotes"' },
    ],
    ['{"notes": {"x": 1}} then {"best": 1}', { best: 1 }],
    ['After comparing, the best is candidate 2 because it is complete.', { best: 2 }],
    ['Candidate 3 wins.', { best: 3 }],
    ['  2 ', { best: 2 }],
    ['[1]', { best: 1 }],
  ])('reads %j', (text, expected) => {
    expect(parseJudgement(text, 3)).toEqual(expected);
  });

  it.each([
    'I cannot decide.',
    '{"best": 7}',
    '{"best": 0}',
    'Candidate 1 is short, Candidate 2 is long.',
    '{broken json',
    '',
  ])('gives up on %j', (text) => {
    expect(parseJudgement(text, 3)).toBeUndefined();
  });
});
