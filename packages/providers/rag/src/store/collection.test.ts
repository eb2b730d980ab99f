import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FusionError } from '@fusionkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMockEmbedder } from '../__fixtures__/mock-embedder.js';
import { RagStore } from './rag-store.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rag-collection-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const guide = `# Install

Download the package and run the installer on Linux or macOS.

## Configure

Set FUSION_PORT to change the port the server listens on.

# Troubleshoot

If the server does not start, check the log for a port conflict.`;

function store() {
  const mock = createMockEmbedder();
  const rag = new RagStore({
    dir: directory,
    embed: mock.embed,
    defaultEmbeddingModel: mock.model,
    embeddingCache: false,
  });
  return { rag, mock };
}

async function seeded() {
  const { rag, mock } = store();
  const collection = await rag.createCollection('docs', { splitter: { chunkSize: 200, chunkOverlap: 20 } });
  const report = await collection.ingest([
    {
      type: 'text',
      id: 'guide',
      text: guide,
      format: 'markdown',
      uri: 'https://docs.test/guide',
      metadata: { lang: 'en', year: 2024 },
    },
    {
      type: 'text',
      id: 'faq',
      text: 'The port defaults to 8080. Ports below 1024 need root.',
      title: 'FAQ',
      metadata: { lang: 'en', year: 2021 },
    },
    { type: 'text', id: 'notes', text: 'Le port par défaut est 8080.', metadata: { lang: 'fr', year: 2023 } },
  ]);
  return { rag, mock, collection, report };
}

describe('Collection', () => {
  it('ingests documents into chunks, BM25 and vectors, and reports what it did', async () => {
    const { collection, report, mock } = await seeded();
    expect(report).toMatchObject({ documents: 3, added: 3, updated: 0, unchanged: 0, generation: 1 });
    expect(report.documentIds).toEqual(['guide', 'faq', 'notes']);
    const info = collection.info();
    expect(info).toMatchObject({
      name: 'docs',
      documents: 3,
      generation: 1,
      vector: { model: mock.model, dimensions: 16, ef: 100 },
    });
    expect(info.chunks).toBe(report.chunksAdded);
    expect(collection.bm25Index.size).toBe(info.chunks);
    expect(collection.vectorIndex?.size).toBe(info.chunks);
    expect(new Set(mock.inputs).size).toBe(info.chunks);
  });

  it('returns chunks with their document, source URI, title, span and metadata', async () => {
    const { collection } = await seeded();
    const [hit] = await collection.search({ query: 'port conflict log', mode: 'bm25', k: 1 });
    expect(hit).toMatchObject({
      documentId: 'guide',
      source: { uri: 'https://docs.test/guide', title: 'Install' },
      metadata: { lang: 'en', year: 2024, headings: ['Troubleshoot'] },
    });
    expect(guide.slice(hit!.source!.span!.start, hit!.source!.span!.end)).toBe(hit!.text);
    expect(hit!.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('searches by vector (embedded or given) and by both lists fused', async () => {
    const { collection, mock } = await seeded();
    const faq = 'The port defaults to 8080. Ports below 1024 need root.';
    const [nearest] = await collection.search({ query: faq, mode: 'vector', k: 1 });
    expect(nearest).toMatchObject({ documentId: 'faq', score: expect.closeTo(1, 5) });
    const given = await collection.search({
      query: '',
      vector: (await mock.embed([faq]))[0],
      mode: 'vector',
      k: 1,
    });
    expect(given[0]!.documentId).toBe('faq');
    const hybrid = await collection.search({ query: 'FUSION_PORT listens', k: 3 });
    expect(hybrid).toHaveLength(3);
    expect(hybrid[0]!.metadata?.headings).toEqual(['Install', 'Configure']);
    expect(hybrid[0]!.score).toBeLessThanOrEqual(2 / 61);
  });

  it('applies metadata filters inside every mode and still fills k', async () => {
    const { collection } = await seeded();
    for (const mode of ['bm25', 'vector', 'hybrid'] as const) {
      const hits = await collection.search({
        query: 'port 8080',
        mode,
        k: 2,
        filter: { lang: 'en', year: { $lt: 2022 } },
      });
      expect(
        hits.map((hit) => hit.documentId),
        mode,
      ).toEqual(['faq']);
      const french = await collection.search({
        query: 'port',
        mode,
        k: 5,
        filter: { $or: [{ lang: 'fr' }, { headings: 'Configure' }] },
      });
      expect(new Set(french.map((hit) => hit.documentId)), mode).toEqual(new Set(['notes', 'guide']));
      const byId = await collection.search({
        query: 'server port',
        mode,
        k: 10,
        filter: { documentId: { $in: ['guide'] } },
      });
      expect(
        byId.every((hit) => hit.documentId === 'guide'),
        mode,
      ).toBe(true);
      // BM25 only finds chunks with a query term; vectors rank every matching chunk.
      const expected = mode === 'bm25' ? 2 : collection.getDocument('guide')!.chunkIds.length;
      expect(byId.length, mode).toBe(expected);
    }
  });

  it('skips unchanged documents entirely', async () => {
    const { collection, mock } = await seeded();
    const embedded = mock.inputs.length;
    const again = await collection.ingest([
      {
        type: 'text',
        id: 'notes',
        text: 'Le port par défaut est 8080.',
        metadata: { lang: 'fr', year: 2023 },
      },
    ]);
    expect(again).toMatchObject({ unchanged: 1, added: 0, updated: 0, chunksAdded: 0, generation: 1 });
    expect(mock.inputs.length).toBe(embedded);
    expect(collection.info().generation).toBe(1);
  });

  it('replaces a changed document: new chunks embedded, vanished chunks gone from both indexes', async () => {
    const { collection, mock } = await seeded();
    const before = collection.getDocument('guide')!;
    const embedded = mock.inputs.length;
    const changed = guide.replace('check the log for a port conflict', 'restart the machine');
    const report = await collection.upsertDocuments([
      {
        id: 'guide',
        text: changed,
        format: 'markdown',
        uri: 'https://docs.test/guide',
        metadata: { lang: 'en', year: 2024 },
      },
    ]);
    expect(report).toMatchObject({ updated: 1, chunksAdded: 1, chunksRemoved: 1 });
    expect(mock.inputs.slice(embedded)).toEqual([
      '# Troubleshoot\n\nIf the server does not start, restart the machine.',
    ]);
    const after = collection.getDocument('guide')!;
    expect(after.chunkIds.slice(0, -1)).toEqual(before.chunkIds.slice(0, -1));
    expect(await collection.search({ query: 'conflict', mode: 'bm25' })).toEqual([]);
    expect(collection.bm25Index.size).toBe(collection.info().chunks);
    expect(collection.vectorIndex!.size).toBe(collection.info().chunks);
    expect(collection.vectorIndex!.has(before.chunkIds.at(-1)!)).toBe(false);
  });

  it('deletes documents from both indexes', async () => {
    const { collection } = await seeded();
    const chunkIds = collection.getDocument('faq')!.chunkIds;
    expect(await collection.deleteDocuments(['faq', 'unknown'])).toBe(1);
    expect(await collection.deleteDocuments(['faq'])).toBe(0);
    expect(collection.getDocument('faq')).toBeUndefined();
    for (const id of chunkIds) {
      expect(collection.bm25Index.has(id)).toBe(false);
      expect(collection.vectorIndex!.has(id)).toBe(false);
    }
    const hits = await collection.search({ query: 'defaults 8080 root', k: 10 });
    expect(hits.some((hit) => hit.documentId === 'faq')).toBe(false);
    expect(collection.info()).toMatchObject({ documents: 2, generation: 2 });
  });

  it('lists documents by id, a page at a time, and gets one with its chunks', async () => {
    const { collection } = await seeded();
    expect(collection.listDocuments({ limit: 2 })).toMatchObject({
      total: 3,
      documents: [{ id: 'faq' }, { id: 'guide' }],
    });
    expect(collection.listDocuments({ offset: 2 }).documents.map((document) => document.id)).toEqual([
      'notes',
    ]);
    const faq = collection.getDocument('faq')!;
    expect(faq).toMatchObject({
      id: 'faq',
      title: 'FAQ',
      format: 'text',
      length: 54,
      metadata: { lang: 'en' },
    });
    expect(faq.chunks.map((chunk) => chunk.text)).toEqual([
      'The port defaults to 8080. Ports below 1024 need root.',
    ]);
  });

  it('answers bad searches with a 400 naming the field', async () => {
    const { collection } = await seeded();
    const cases: [object, string][] = [
      [{ query: 'x', k: 0 }, 'k'],
      [{ query: 'x', k: 1.5 }, 'k'],
      [{ query: 42 }, 'query'],
      [{ query: 'x', mode: 'fuzzy' }, 'mode'],
      [{ query: 'x', filter: { year: { $near: 1 } } }, 'filter'],
    ];
    for (const [request, param] of cases) {
      const error = await collection.search(request as never).catch((caught: unknown) => caught);
      expect(FusionError.isInstance(error), JSON.stringify(request)).toBe(true);
      expect(error).toMatchObject({ status: 400, param });
    }
  });

  it('refuses invalid documents before changing anything', async () => {
    const { collection } = await seeded();
    await expect(collection.upsertDocuments([{ id: '', text: 'x' }])).rejects.toMatchObject({
      param: 'documents[0].id',
    });
    await expect(
      collection.upsertDocuments([
        { id: 'a', text: 'ok' },
        { id: 'b', text: 3 as never },
      ]),
    ).rejects.toMatchObject({
      param: 'documents[1].text',
    });
    expect(collection.info().documents).toBe(3);
  });

  it('serialises concurrent ingests, and searches see whole batches', async () => {
    const { collection } = await seeded();
    const ingests = Array.from({ length: 5 }, (_, index) =>
      collection.upsertDocuments([
        { id: `n${index}`, text: `note number ${index} about ports`, metadata: { lang: 'en' } },
      ]),
    );
    const searching = collection.search({ query: 'ports', mode: 'bm25', k: 10 });
    const reports = await Promise.all(ingests);
    await searching;
    expect(reports.map((report) => report.generation)).toEqual([2, 3, 4, 5, 6]);
    expect(collection.info().documents).toBe(8);
  });
});

describe('ingest progress and cancellation', () => {
  it('reports progress after each batch and stops when aborted', async () => {
    const rag = new RagStore({ dir: directory });
    const collection = await rag.createCollection('docs');
    const documents = Array.from({ length: 150 }, (_, index) => ({
      id: `d${index}`,
      text: `text number ${index}`,
    }));
    const progress: number[] = [];
    await collection.upsertDocuments(documents, { onProgress: (update) => progress.push(update.added) });
    expect(progress).toEqual([64, 128, 150]);
    const controller = new AbortController();
    const more = Array.from({ length: 150 }, (_, index) => ({ id: `e${index}`, text: `more ${index}` }));
    const aborted = collection.upsertDocuments(more, {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(aborted).rejects.toMatchObject({ status: 499 });
    // The batch applied before the abort is dropped with the rest: the collection is at its last commit.
    expect(collection.info()).toMatchObject({ documents: 150, generation: 1 });
  });
});

describe('a lexical-only collection', () => {
  it('searches with BM25 and refuses vector modes with a 400', async () => {
    const rag = new RagStore({ dir: directory });
    const collection = await rag.createCollection('plain');
    await collection.ingest([
      { type: 'text', id: 'a', text: 'Hybrid retrieval combines lexical and dense search.' },
    ]);
    expect(collection.info().vector).toBeUndefined();
    expect(collection.vectorIndex).toBeUndefined();
    expect((await collection.search({ query: 'lexical' }))[0]!.documentId).toBe('a');
    await expect(collection.search({ query: 'x', mode: 'vector' })).rejects.toMatchObject({
      status: 400,
      code: 'unsupported',
    });
  });
});
