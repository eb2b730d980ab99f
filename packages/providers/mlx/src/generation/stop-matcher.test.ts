import { describe, expect, it } from 'vitest';
import { StopMatcher } from './stop-matcher.js';

function run(stops: string[], pieces: string[]) {
  const matcher = new StopMatcher(stops);
  let text = '';
  for (const piece of pieces) {
    const result = matcher.push(piece);
    text += result.text;
    if (result.stopped) return { text, stopped: true };
  }
  return { text: text + matcher.flush(), stopped: false };
}

describe('StopMatcher', () => {
  it('stops at a stop string split over pieces, without returning it', () => {
    expect(run(['STOP'], ['Hello S', 'T', 'OP and more'])).toEqual({ text: 'Hello ', stopped: true });
  });

  it('holds back only what could still become a stop string', () => {
    const matcher = new StopMatcher(['</end>']);
    expect(matcher.push('a </e')).toEqual({ text: 'a ', stopped: false });
    expect(matcher.push('x')).toEqual({ text: '</ex', stopped: false });
  });

  it('picks the earliest of several stop strings and passes text through without any', () => {
    expect(run(['bb', 'a'], ['xxbba'])).toEqual({ text: 'xx', stopped: true });
    expect(run([], ['plain', ' text'])).toEqual({ text: 'plain text', stopped: false });
    expect(run(['zz'], ['ends with z'])).toEqual({ text: 'ends with z', stopped: false });
  });
});
