import { describe, expect, it } from 'vitest';
import { continuationRequest, RestartFilter } from './continuation.js';

const run = (partial: string, pieces: string[]) => {
  const filter = new RestartFilter(partial);
  return pieces.map((piece) => filter.push(piece)).join('');
};

describe('RestartFilter', () => {
  it('passes a true continuation on, holding only pieces that could be a restart', () => {
    expect(run('The capital', [' of', ' France'])).toBe(' of France');
    const filter = new RestartFilter('Then we');
    expect(filter.push('The')).toBe('');
    expect(filter.push('n again')).toBe('Then again');
  });

  it('drops a restart of the whole partial answer', () => {
    expect(run('one two', ['one', ' two', ' three'])).toBe(' three');
    expect(run('one two', ['one two three'])).toBe(' three');
    expect(run('', ['a', 'b'])).toBe('ab');
  });
});

describe('continuationRequest', () => {
  it('adds the partial answer and the instruction after the messages', () => {
    const request = continuationRequest(
      { model: 'm', messages: [{ role: 'user', content: 'Q' }], max_tokens: 5 },
      'part',
      'go on',
    );
    expect(request).toEqual({
      model: 'm',
      max_tokens: 5,
      messages: [
        { role: 'user', content: 'Q' },
        { role: 'assistant', content: 'part' },
        { role: 'user', content: 'go on' },
      ],
    });
  });
});
