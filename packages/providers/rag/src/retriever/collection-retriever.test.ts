import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PluginV1 } from '@fusionkit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMockEmbedder } from '../__fixtures__/mock-embedder.js';
import { RagStore } from '../store/rag-store.js';
import { createCollectionRetriever } from './collection-retriever.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rag-retriever-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const options = () => ({ signal: new AbortController().signal, requestId: 'req-1' });

describe('createCollectionRetriever', () => {
  it('is a RetrieverV1 a plugin registers, returning cited chunks', async () => {
    const mock = createMockEmbedder();
    const rag = new RagStore({ dir: directory, embed: mock.embed, defaultEmbeddingModel: mock.model });
    const collection = await rag.createCollection('docs');
    await collection.ingest([
      {
        type: 'text',
        id: 'a',
        text: 'Reciprocal rank fusion merges ranked lists.',
        uri: 'https://docs.test/a',
        title: 'RRF',
        metadata: { kind: 'guide' },
      },
      {
        type: 'text',
        id: 'b',
        text: 'BM25 ranks documents by term statistics.',
        metadata: { kind: 'reference' },
      },
    ]);
    const plugin: PluginV1 = {
      specificationVersion: 'v1',
      name: 'rag-test',
      setup(api) {
        api.registerRetriever(createCollectionRetriever({ collection }));
      },
    };
    await mock.fusion.use(plugin);
    const retriever = mock.fusion.retrievers.get('docs')!;
    expect(retriever.specificationVersion).toBe('v1');
    const [hit] = await retriever.doRetrieve('rank fusion', { ...options(), k: 1 });
    expect(hit).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{64}$/),
      documentId: 'a',
      text: 'Reciprocal rank fusion merges ranked lists.',
      score: expect.any(Number),
      source: { uri: 'https://docs.test/a', title: 'RRF', span: { start: 0, end: 43 } },
      metadata: { kind: 'guide' },
    });
  });

  it('ands its own filter with the request filter and uses its mode', async () => {
    const rag = new RagStore({ dir: directory });
    const collection = await rag.createCollection('docs');
    await collection.upsertDocuments([
      { id: 'a', text: 'ranking guide', metadata: { kind: 'guide', lang: 'en' } },
      { id: 'b', text: 'ranking reference', metadata: { kind: 'reference', lang: 'en' } },
      { id: 'c', text: 'ranking guide in German', metadata: { kind: 'guide', lang: 'de' } },
    ]);
    const retriever = createCollectionRetriever({
      collection,
      name: 'guides',
      mode: 'bm25',
      filter: { kind: 'guide' },
    });
    expect(retriever.name).toBe('guides');
    const all = await retriever.doRetrieve('ranking', { ...options(), k: 5 });
    expect(all.map((hit) => hit.documentId).sort()).toEqual(['a', 'c']);
    const english = await retriever.doRetrieve('ranking', { ...options(), k: 5, filter: { lang: 'en' } });
    expect(english.map((hit) => hit.documentId)).toEqual(['a']);
  });
});
