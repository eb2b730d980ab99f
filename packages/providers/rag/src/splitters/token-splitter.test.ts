import { describe, expect, it } from 'vitest';
import { TokenSplitter } from './token-splitter.js';

/** A stand-in tokenizer: words and punctuation marks are tokens. */
const countTokens = (text: string) => text.match(/\w+|[^\w\s]/g)?.length ?? 0;

describe('TokenSplitter', () => {
  const text = Array.from({ length: 50 }, (_, index) => `Fact ${index} is true.`).join(' ');

  it('sizes chunks in tokens of the given tokenizer', () => {
    const chunks = new TokenSplitter({ countTokens, chunkSize: 20, chunkOverlap: 4 }).split(text);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(countTokens(chunk.text)).toBeLessThanOrEqual(20);
      expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
    }
  });

  it('overlaps by up to chunkOverlap tokens', () => {
    const chunks = new TokenSplitter({ countTokens, chunkSize: 20, chunkOverlap: 5 }).split(text);
    for (let index = 1; index < chunks.length; index++) {
      const shared = text.slice(chunks[index]!.start, chunks[index - 1]!.end);
      expect(countTokens(shared)).toBeGreaterThan(0);
      expect(countTokens(shared)).toBeLessThanOrEqual(5);
    }
  });

  it('defaults to 256-token chunks with 32 tokens of overlap', () => {
    const splitter = new TokenSplitter({ countTokens });
    expect([splitter.chunkSize, splitter.chunkOverlap]).toEqual([256, 32]);
  });

  it('cuts an over-long word by tokens', () => {
    const perCharacter = (value: string) => value.length;
    const chunks = new TokenSplitter({ countTokens: perCharacter, chunkSize: 8, chunkOverlap: 0 }).split(
      'x'.repeat(20),
    );
    expect(chunks.map((chunk) => chunk.text.length)).toEqual([8, 8, 4]);
  });
});
