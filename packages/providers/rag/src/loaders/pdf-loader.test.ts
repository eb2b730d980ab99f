import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FusionError } from '@fusionkit/core';
import { describe, expect, it } from 'vitest';
import { makePdf } from '../__fixtures__/make-pdf.js';
import { RagStore } from '../store/rag-store.js';
import { loadPdf } from './pdf-loader.js';

describe('loadPdf', () => {
  it('extracts the text of every page, the page count and the title', async () => {
    const bytes = makePdf(['Hybrid search explained', 'Second page about BM25'], 'Search handbook');
    const document = await loadPdf(bytes);
    expect(document).toEqual({
      text: 'Hybrid search explained\n\nSecond page about BM25',
      format: 'pdf',
      title: 'Search handbook',
      metadata: { pages: 2 },
      pageStarts: [0, 25],
    });
    // The caller's buffer is not detached by pdf.js.
    expect(bytes.byteLength).toBeGreaterThan(0);
  });

  it('refuses bytes that are not a PDF with a 400', async () => {
    const error = await loadPdf(new TextEncoder().encode('not a pdf at all')).catch(
      (caught: unknown) => caught,
    );
    expect(FusionError.isInstance(error)).toBe(true);
    expect((error as FusionError).status).toBe(400);
  });

  it('gives every chunk of a collection the page it starts on, and where it ends when it runs on', async () => {
    const pages = ['Alpha page one text here', 'Bravo page two text here', 'Charlie page three text'];
    const dir = await mkdtemp(join(tmpdir(), 'rag-pdf-'));
    const store = new RagStore({ dir });
    try {
      const collection = await store.createCollection('pdfs', {
        splitter: { kind: 'recursive', chunkSize: 30, chunkOverlap: 0 },
      });
      await collection.ingest([{ type: 'bytes', bytes: makePdf(pages, 'Paged'), filename: 'paged.pdf' }]);
      const chunks = collection.getDocument('paged.pdf')!.chunks;
      expect(chunks.map((chunk) => [chunk.text, chunk.metadata.page, chunk.metadata.pageEnd])).toEqual([
        ['Alpha page one text here', 1, undefined],
        ['Bravo page two text here', 2, undefined],
        ['Charlie page three text', 3, undefined],
      ]);
      const wide = await store.createCollection('wide', {
        splitter: { kind: 'recursive', chunkSize: 60, chunkOverlap: 0 },
      });
      await wide.ingest([{ type: 'bytes', bytes: makePdf(pages, 'Paged'), filename: 'paged.pdf' }]);
      const spans = wide
        .getDocument('paged.pdf')!
        .chunks.map((chunk) => [chunk.metadata.page, chunk.metadata.pageEnd]);
      expect(spans[0]).toEqual([1, 2]);
      // Search hits carry it too, and it filters.
      const hits = await collection.search({ query: 'charlie', k: 1, filter: { page: 3 } });
      expect(hits[0]?.metadata).toMatchObject({ page: 3 });
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
