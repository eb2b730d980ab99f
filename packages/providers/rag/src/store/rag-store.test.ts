import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMockEmbedder } from '../__fixtures__/mock-embedder.js';
import { RecursiveCharacterSplitter } from '../splitters/recursive-character-splitter.js';
import { RagStore } from './rag-store.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rag-store-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('RagStore', () => {
  it('creates, lists, opens and deletes collections under <dir>/rag/<name>', async () => {
    const mock = createMockEmbedder();
    const rag = new RagStore({ dir: directory, embed: mock.embed, defaultEmbeddingModel: mock.model });
    const docs = await rag.createCollection('docs', {
      description: 'Product docs',
      splitter: { chunkSize: 300 },
    });
    await rag.createCollection('notes', { vector: false, bm25: { k1: 1.2 } });
    await docs.ingest([{ type: 'text', id: 'a', text: 'alpha beta' }]);
    expect(await readdir(join(directory, 'rag'))).toEqual(expect.arrayContaining(['docs', 'notes']));
    const listed = await new RagStore({ dir: directory }).listCollections();
    expect(listed).toEqual([
      expect.objectContaining({
        name: 'docs',
        description: 'Product docs',
        documents: 1,
        chunks: 1,
        generation: 1,
      }),
      expect.objectContaining({ name: 'notes', documents: 0, generation: 0 }),
    ]);
    expect(listed[0]!.vector).toMatchObject({ model: mock.model, M: 16, efConstruction: 200, ef: 100 });
    expect(listed[1]!.vector).toBeUndefined();
    expect(await rag.getCollection('docs')).toBe(docs);
    const notes = await new RagStore({ dir: directory }).getCollection('notes');
    expect(notes.config).toMatchObject({
      bm25: { k1: 1.2, b: 0.4 },
      splitter: { kind: 'auto', chunkSize: 1000, chunkOverlap: 200 },
    });
    await rag.deleteCollection('docs');
    expect((await rag.listCollections()).map((info) => info.name)).toEqual(['notes']);
    await expect(rag.getCollection('docs')).rejects.toMatchObject({
      status: 404,
      code: 'collection_not_found',
    });
    await rag.close();
  });

  it('answers 409 for an existing name, 404 for an unknown one, 400 for a bad one', async () => {
    const rag = new RagStore({ dir: directory });
    await rag.createCollection('docs');
    await expect(rag.createCollection('docs')).rejects.toMatchObject({
      status: 409,
      code: 'collection_exists',
    });
    await expect(new RagStore({ dir: directory }).createCollection('docs')).rejects.toMatchObject({
      status: 409,
    });
    await expect(rag.getCollection('nope')).rejects.toMatchObject({ status: 404 });
    await expect(rag.deleteCollection('nope')).rejects.toMatchObject({ status: 404 });
    for (const name of ['../escape', '.hidden', 'a/b', '', 'x'.repeat(65), 'a b', 'dots.are.out']) {
      await expect(rag.createCollection(name), name).rejects.toMatchObject({ status: 400, param: 'name' });
    }
    await expect(rag.getCollection('../x')).rejects.toThrow(/collection name/);
  });

  it('needs a model and an embed function for a vector collection', async () => {
    await expect(
      new RagStore({ dir: directory }).createCollection('v', { vector: { M: 8 } }),
    ).rejects.toMatchObject({
      status: 400,
      param: 'vector.model',
    });
    const mock = createMockEmbedder();
    const rag = new RagStore({ dir: directory, embed: mock.embed });
    expect((await rag.createCollection('lexical')).info().vector).toBeUndefined();
    const vectors = await rag.createCollection('vectors', { vector: { model: mock.model, M: 8, ef: 64 } });
    expect(vectors.info().vector).toEqual({ model: mock.model, M: 8, efConstruction: 200, ef: 64 });
  });

  it('lets code choose a splitter per collection and format', async () => {
    const sentences = new RecursiveCharacterSplitter({ chunkSize: 20, chunkOverlap: 0, separators: ['. '] });
    const rag = new RagStore({
      dir: directory,
      splitter: (config, format) => (config.name === 'short' && format === 'text' ? sentences : undefined),
    });
    const short = await rag.createCollection('short');
    const normal = await rag.createCollection('normal');
    const text = 'First sentence. Second sentence. Third one.';
    await short.upsertDocuments([{ id: 'a', text }]);
    await normal.upsertDocuments([{ id: 'a', text }]);
    expect(short.getDocument('a')!.chunks.map((chunk) => chunk.text)).toEqual([
      'First sentence.',
      'Second sentence.',
      'Third one.',
    ]);
    expect(normal.getDocument('a')!.chunks).toHaveLength(1);
  });

  it('searches a vector collection before its first vector', async () => {
    const mock = createMockEmbedder();
    const rag = new RagStore({ dir: directory, embed: mock.embed, defaultEmbeddingModel: mock.model });
    const empty = await rag.createCollection('empty');
    expect(await empty.search({ query: 'anything' })).toEqual([]);
    expect(await empty.search({ query: 'anything', mode: 'vector' })).toEqual([]);
  });

  it('lists nothing for a fresh directory', async () => {
    expect(await new RagStore({ dir: join(directory, 'missing') }).listCollections()).toEqual([]);
  });
});
