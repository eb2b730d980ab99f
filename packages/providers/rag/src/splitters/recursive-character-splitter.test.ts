import { describe, expect, it } from 'vitest';
import { RecursiveCharacterSplitter } from './recursive-character-splitter.js';

const paragraph = (word: string, count: number) =>
  Array.from({ length: count }, (_, index) => `${word}${index}`).join(' ');

describe('RecursiveCharacterSplitter', () => {
  it('keeps a short text whole, trimmed, with its span', () => {
    const text = '  Hello world.  ';
    expect(new RecursiveCharacterSplitter({ chunkSize: 100, chunkOverlap: 10 }).split(text)).toEqual([
      { text: 'Hello world.', start: 2, end: 14 },
    ]);
  });

  it('cuts at paragraphs first and packs small paragraphs together', () => {
    const text = 'One para.\n\nTwo para.\n\nThree para is longer.';
    const chunks = new RecursiveCharacterSplitter({ chunkSize: 22, chunkOverlap: 0 }).split(text);
    expect(chunks.map((chunk) => chunk.text)).toEqual(['One para.\n\nTwo para.', 'Three para is longer.']);
  });

  it('keeps every chunk within chunkSize and every span exact', () => {
    const text = [paragraph('alpha', 60), paragraph('beta', 45), `${'x'.repeat(250)} tail`].join('\n\n');
    const splitter = new RecursiveCharacterSplitter({ chunkSize: 120, chunkOverlap: 30 });
    const chunks = splitter.split(text);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(120);
      expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
    }
    // Together the chunks cover every non-space character of the text.
    const covered = new Array<boolean>(text.length).fill(false);
    for (const chunk of chunks) covered.fill(true, chunk.start, chunk.end);
    expect([...text].every((character, index) => covered[index] || /\s/.test(character))).toBe(true);
  });

  it('overlaps consecutive chunks by at most chunkOverlap', () => {
    const text = paragraph('word', 200);
    const chunks = new RecursiveCharacterSplitter({ chunkSize: 100, chunkOverlap: 25 }).split(text);
    for (let index = 1; index < chunks.length; index++) {
      const overlap = chunks[index - 1]!.end - chunks[index]!.start;
      expect(overlap).toBeGreaterThan(0);
      expect(overlap).toBeLessThanOrEqual(25);
    }
  });

  it('has no overlap when chunkOverlap is 0', () => {
    const chunks = new RecursiveCharacterSplitter({ chunkSize: 50, chunkOverlap: 0 }).split(
      paragraph('w', 100),
    );
    for (let index = 1; index < chunks.length; index++) {
      expect(chunks[index]!.start).toBeGreaterThanOrEqual(chunks[index - 1]!.end);
    }
  });

  it('hard-cuts a run without separators', () => {
    const chunks = new RecursiveCharacterSplitter({ chunkSize: 10, chunkOverlap: 0 }).split('a'.repeat(35));
    expect(chunks.map((chunk) => chunk.text.length)).toEqual([10, 10, 10, 5]);
  });

  it('measures with a custom length function', () => {
    const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
    const splitter = new RecursiveCharacterSplitter({ chunkSize: 5, chunkOverlap: 1, lengthFunction: words });
    const chunks = splitter.split(paragraph('w', 23));
    for (const chunk of chunks) expect(words(chunk.text)).toBeLessThanOrEqual(5);
    expect(chunks[0]!.text).toBe('w0 w1 w2 w3 w4');
    expect(chunks[1]!.text.startsWith('w4')).toBe(true);
  });

  it('returns no chunk for blank text and refuses bad sizes', () => {
    expect(new RecursiveCharacterSplitter().split(' \n\n ')).toEqual([]);
    expect(() => new RecursiveCharacterSplitter({ chunkSize: 0 })).toThrow(/chunkSize/);
    expect(() => new RecursiveCharacterSplitter({ chunkSize: 10, chunkOverlap: 10 })).toThrow(/chunkOverlap/);
  });
});
