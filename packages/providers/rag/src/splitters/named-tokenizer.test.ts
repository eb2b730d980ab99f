import { describe, expect, it } from 'vitest';
import { countTokensWith } from './named-tokenizer.js';
import { TokenSplitter } from './token-splitter.js';

describe('countTokensWith', () => {
  it("counts with a named model's tokenizer, not characters", () => {
    const count = countTokensWith('gpt-4o');
    expect(count('Hello world')).toBe(2);
    expect(count('internationalization')).toBeLessThan('internationalization'.length);
    // Text that looks like a special token is text.
    expect(count('<|endoftext|>')).toBeGreaterThan(1);
    expect(countTokensWith('cl100k_base')('Hello world')).toBe(2);
  });

  it('refuses an unknown tokenizer with a 400 naming the field', () => {
    expect(() => countTokensWith('no-such-model', 'splitter.tokenizer')).toThrow(
      expect.objectContaining({ status: 400, code: 'unknown_tokenizer', param: 'splitter.tokenizer' }),
    );
  });
});

describe('TokenSplitter without a tokenizer', () => {
  it('throws instead of counting characters', () => {
    expect(() => new TokenSplitter({})).toThrow(/needs a tokenizer/);
    expect(() => new TokenSplitter(undefined as never)).toThrow(/needs a tokenizer/);
  });

  it("takes a model name and sizes chunks in that model's tokens", () => {
    const text = Array.from({ length: 60 }, (_, index) => `Fact number ${index} is true.`).join(' ');
    const chunks = new TokenSplitter({ tokenizer: 'gpt-4o', chunkSize: 24, chunkOverlap: 0 }).split(text);
    const count = countTokensWith('gpt-4o');
    for (const chunk of chunks) expect(count(chunk.text)).toBeLessThanOrEqual(24);
    // 24 tokens hold far fewer than 24 words' worth of characters would: not a character count.
    expect(chunks.length).toBeLessThan(text.length / 24 / 2);
    expect(chunks.length).toBeGreaterThan(count(text) / 24 - 1);
  });
});
