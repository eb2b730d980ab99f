import { describe, expect, it } from 'vitest';
import { createEnglishAnalyzer, LUCENE_ENGLISH_STOP_WORDS } from './english-analyzer.js';

describe('createEnglishAnalyzer', () => {
  const analyze = createEnglishAnalyzer();

  it('lowercases, splits on non-alphanumerics, drops stop words and stems with Porter2', () => {
    expect(analyze('The Running dogs were generously fed, and it was Fine!')).toEqual([
      'run',
      'dog',
      'were',
      'generous',
      'fed',
      'fine',
    ]);
  });

  it('drops possessives and keeps digits and non-ASCII letters', () => {
    expect(analyze("The protein's IL-6 levels in Zürich")).toEqual(['protein', 'il', '6', 'level', 'zürich']);
  });

  it("uses Lucene's 33 English stop words", () => {
    expect(LUCENE_ENGLISH_STOP_WORDS.size).toBe(33);
    expect(analyze([...LUCENE_ENGLISH_STOP_WORDS].join(' '))).toEqual([]);
  });

  it('can keep words unstemmed and use other stop words', () => {
    const plain = createEnglishAnalyzer({ stem: false, stopWords: new Set(['running']) });
    expect(plain('Running dogs')).toEqual(['dogs']);
  });

  it('returns nothing for text without words', () => {
    expect(analyze('  ... -- !!')).toEqual([]);
  });
});
