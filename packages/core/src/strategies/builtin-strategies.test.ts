import { describe, expect, it } from 'vitest';
import { builtinStrategies } from './builtin-strategies.js';

describe('builtinStrategies', () => {
  it('keys each built-in strategy by its name, each described with its streaming behaviour', () => {
    const strategies = builtinStrategies();
    expect(Object.keys(strategies)).toEqual([
      'single',
      'fallback',
      'race',
      'vote',
      'best-of-n',
      'mixture-of-agents',
    ]);
    for (const [name, strategy] of Object.entries(strategies)) {
      expect(strategy.name).toBe(name);
      expect(strategy.specificationVersion).toBe('v1');
      expect(strategy.description).toMatch(/stream/i);
      expect(typeof strategy.doStream).toBe('function');
    }
    expect(builtinStrategies().race).not.toBe(strategies.race);
  });
});
