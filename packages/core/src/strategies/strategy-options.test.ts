import { describe, expect, it } from 'vitest';
import {
  booleanOption,
  choiceOption,
  functionOption,
  integerOption,
  mergeOptions,
  phaseDeadline,
  targetListOption,
} from './strategy-options.js';

describe('strategy options', () => {
  it('overlays request options on the defaults, refusing non-objects with a 400', () => {
    expect(mergeOptions({ samples: 5, earlyStop: true }, { samples: 3 })).toEqual({
      samples: 3,
      earlyStop: true,
    });
    expect(mergeOptions({ a: 1 }, undefined)).toEqual({ a: 1 });
    expect(() => mergeOptions({}, [1])).toThrow(expect.objectContaining({ status: 400, param: 'options' }));
  });

  it('checks each kind of value a client may send', () => {
    expect(integerOption(undefined, 'n', 4, 1, 8)).toBe(4);
    expect(() => integerOption(9, 'n', 4, 1, 8)).toThrow(expect.objectContaining({ param: 'options.n' }));
    expect(() => booleanOption('false', 'flag', true)).toThrow(expect.objectContaining({ status: 400 }));
    expect(choiceOption('longest', 'fallback', ['first', 'longest'], 'first')).toBe('longest');
    expect(() => choiceOption('best', 'fallback', ['first', 'longest'], 'first')).toThrow(/first, longest/);
    expect(() => functionOption('x => x', 'extractor', () => 1)).toThrow(/only be given in code/);
    expect(targetListOption(['a', { model: 'b' }], 'proposers')).toEqual([{ model: 'a' }, { model: 'b' }]);
    expect(() => targetListOption([1], 'proposers')).toThrow(
      expect.objectContaining({ param: 'options.proposers[0]' }),
    );
  });

  it('gives a phase the smaller of its timeout and its share of the time left', () => {
    const signal = new AbortController().signal;
    expect(phaseDeadline({ signal, requestId: 'r' }, undefined, 0.5, 1000)).toBeUndefined();
    expect(phaseDeadline({ signal, requestId: 'r', deadline: 2000 }, undefined, 0.5, 1000)).toBe(1500);
    expect(phaseDeadline({ signal, requestId: 'r', deadline: 2000 }, 100, 0.5, 1000)).toBe(1100);
    expect(phaseDeadline({ signal, requestId: 'r', deadline: 500 }, undefined, 0.5, 1000)).toBe(1000);
  });
});
