import { describe, expect, it } from 'vitest';
import { MarkdownSplitter } from './markdown-splitter.js';

const guide = `Intro text before any heading.

# Guide

Welcome.

## Install

Run the installer.

### Linux

\`\`\`sh
# not a heading: inside a code fence
make install
\`\`\`

## Usage ##

Use it.

# Appendix
The end.`;

describe('MarkdownSplitter', () => {
  it('keeps the heading trail of every chunk and never crosses sections', () => {
    const chunks = new MarkdownSplitter({ chunkSize: 500, chunkOverlap: 0 }).split(guide);
    expect(chunks.map((chunk) => chunk.metadata?.headings)).toEqual([
      [],
      ['Guide'],
      ['Guide', 'Install'],
      ['Guide', 'Install', 'Linux'],
      ['Guide', 'Usage'],
      ['Appendix'],
    ]);
    expect(chunks[3]!.text).toContain('# not a heading');
    expect(chunks[4]!.text).toBe('## Usage ##\n\nUse it.');
  });

  it('keeps exact spans', () => {
    for (const chunk of new MarkdownSplitter({ chunkSize: 40, chunkOverlap: 10 }).split(guide)) {
      expect(guide.slice(chunk.start, chunk.end)).toBe(chunk.text);
      expect(chunk.text.length).toBeLessThanOrEqual(40);
    }
  });

  it('splits a long section into several chunks with the same trail, overlapping', () => {
    const text = `# Long\n\n${Array.from({ length: 40 }, (_, index) => `Sentence number ${index}.`).join(' ')}`;
    const chunks = new MarkdownSplitter({ chunkSize: 120, chunkOverlap: 30 }).split(text);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((chunk) => (chunk.metadata!.headings as string[])[0] === 'Long')).toBe(true);
    expect(chunks[1]!.start).toBeLessThan(chunks[0]!.end);
  });

  it('can ignore deep headings', () => {
    const chunks = new MarkdownSplitter({ maxHeadingLevel: 2 }).split(guide);
    expect(chunks.some((chunk) => (chunk.metadata!.headings as string[]).includes('Linux'))).toBe(false);
  });
});
