import type { FusionError } from '@fusionkit/core';
import { describe, expect, it } from 'vitest';
import { detectFormat, loadDocuments } from './load-document.js';

const encode = (value: string) => new TextEncoder().encode(value);

describe('detectFormat', () => {
  it('prefers the explicit format, then the MIME type, then the extension', () => {
    expect(detectFormat({ format: 'markdown', uri: 'a.html' })).toBe('markdown');
    expect(detectFormat({ mimeType: 'text/html; charset=utf-8', uri: 'a.txt' })).toBe('html');
    expect(
      detectFormat({ mimeType: 'application/octet-stream', uri: 'https://x.test/paper.PDF?download=1' }),
    ).toBe('pdf');
    expect(detectFormat({ uri: 'notes.md' })).toBe('markdown');
    expect(detectFormat({ uri: 'data.jsonl' })).toBe('jsonl');
    expect(detectFormat({ uri: 'README' })).toBe('text');
  });

  it('refuses a binary MIME type it has no loader for (415)', () => {
    try {
      detectFormat({ mimeType: 'image/png', uri: 'x.png' });
      expect.unreachable();
    } catch (error) {
      expect((error as FusionError).status).toBe(415);
    }
  });
});

describe('loadDocuments', () => {
  it('loads plain text, normalising line ends and dropping a byte-order mark', async () => {
    const [document] = await loadDocuments(encode('\ufeffline one\r\nline two'), { uri: 'a.txt' });
    expect(document).toEqual({ text: 'line one\nline two', format: 'text', metadata: {} });
  });

  it('loads Markdown with front matter as metadata and a title', async () => {
    const markdown =
      '---\ntitle: "Setup guide"\ntags: [install, linux]\ndraft: false\nversion: 2\n---\n# Ignored title\n\nBody.';
    const [document] = await loadDocuments(encode(markdown), { uri: 'guide.md' });
    expect(document).toEqual({
      text: '# Ignored title\n\nBody.',
      format: 'markdown',
      title: 'Setup guide',
      metadata: { title: 'Setup guide', tags: ['install', 'linux'], draft: false, version: 2 },
    });
    const [untitled] = await loadDocuments(encode('Intro\n\n# First heading\n'), { format: 'markdown' });
    expect(untitled!.title).toBe('First heading');
  });

  it('loads JSON and HTML through their loaders', async () => {
    expect(await loadDocuments(encode('[{"text":"a"},{"text":"b"}]'), { uri: 'x.json' })).toHaveLength(2);
    const [html] = await loadDocuments(encode('<p>Hi <b>there</b></p>'), { mimeType: 'text/html' });
    expect(html!.text).toBe('Hi there');
  });

  it('refuses binary bytes as text (415)', async () => {
    const error = await loadDocuments(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 1])).catch(
      (caught: unknown) => caught,
    );
    expect((error as FusionError).status).toBe(415);
  });
});
