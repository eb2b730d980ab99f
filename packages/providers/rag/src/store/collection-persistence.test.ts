import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMockEmbedder } from '../__fixtures__/mock-embedder.js';
import type { CommitStep } from './collection-storage.js';
import { RagStore } from './rag-store.js';
import type { DocumentInput } from './records.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rag-persist-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const documents = (from: number, to: number): DocumentInput[] =>
  Array.from({ length: to - from }, (_, offset) => ({
    id: `doc-${from + offset}`,
    text: `Document ${from + offset} explains topic ${(from + offset) % 7}. It has a second sentence about item ${from + offset}.`,
    metadata: { topic: (from + offset) % 7 },
  }));

/** A store whose commits fail at `failAt` while `armed` is set, as a crash at that point would. */
function crashableStore(failAt?: CommitStep) {
  const mock = createMockEmbedder();
  const control = { armed: false };
  const rag = new RagStore({
    dir: directory,
    embed: mock.embed,
    defaultEmbeddingModel: mock.model,
    onCommitStep: (step) => {
      if (control.armed && step === failAt) throw new Error(`simulated crash before ${step}`);
    },
  });
  return { rag, control };
}

const collectionDirectory = () => join(directory, 'rag', 'docs');

describe('collection persistence', () => {
  it('writes manifest, store, BM25 and vector files, and loads them on start', async () => {
    const { rag } = crashableStore();
    const collection = await rag.createCollection('docs');
    await collection.upsertDocuments(documents(0, 20));
    expect((await readdir(collectionDirectory())).sort()).toEqual([
      'bm25-1.bin',
      'manifest.json',
      'store-1.jsonl',
      'vectors-1.hnsw',
      'vectors-1.hnsw.ids.json',
    ]);
    const query = { query: 'topic 3 item', k: 5, filter: { topic: 3 } };
    const before = await collection.search(query);
    const reopened = await crashableStore().rag.getCollection('docs');
    expect(reopened.info()).toMatchObject({ documents: 20, generation: 1, vector: { dimensions: 16 } });
    expect(await reopened.search(query)).toEqual(before);
    expect(await reopened.search({ ...query, mode: 'vector' })).toEqual(
      await collection.search({ ...query, mode: 'vector' }),
    );
  });

  it('keeps only the files of the last commit, reusing an unchanged vector file', async () => {
    const { rag } = crashableStore();
    const collection = await rag.createCollection('docs');
    await collection.upsertDocuments(documents(0, 5));
    await collection.upsertDocuments(documents(5, 10));
    expect((await readdir(collectionDirectory())).sort()).toEqual([
      'bm25-2.bin',
      'manifest.json',
      'store-2.jsonl',
      'vectors-2.hnsw',
      'vectors-2.hnsw.ids.json',
    ]);
    // Metadata-only change: the vectors stay as they are, so their file is kept, not rewritten.
    await collection.upsertDocuments([{ ...documents(0, 1)[0]!, metadata: { topic: 99 } }]);
    expect((await readdir(collectionDirectory())).sort()).toEqual([
      'bm25-3.bin',
      'manifest.json',
      'store-3.jsonl',
      'vectors-2.hnsw',
      'vectors-2.hnsw.ids.json',
    ]);
  });

  it.each(['store', 'bm25', 'vectors', 'manifest'] as const)(
    'survives a crash before the %s step: the last commit stays readable and a re-run adds no duplicates',
    async (step) => {
      const { rag, control } = crashableStore(step);
      const collection = await rag.createCollection('docs');
      await collection.upsertDocuments(documents(0, 10));
      const committed = collection.info();
      control.armed = true;
      await expect(collection.upsertDocuments(documents(5, 25))).rejects.toThrow(
        `simulated crash before ${step}`,
      );
      // The open collection is back at its last commit...
      expect(collection.info()).toMatchObject({ documents: 10, chunks: committed.chunks, generation: 1 });
      // ...and so is what a restarted process reads.
      const restarted = crashableStore(step);
      const reopened = await restarted.rag.getCollection('docs');
      expect(reopened.info()).toMatchObject({ documents: 10, chunks: committed.chunks, generation: 1 });
      expect((await readdir(collectionDirectory())).filter((file) => file.includes('-2'))).toEqual([]);
      // Re-running the same ingest completes it, without duplicates.
      const report = await reopened.upsertDocuments(documents(5, 25));
      expect(report).toMatchObject({ added: 15, unchanged: 5 });
      const info = reopened.info();
      expect(info.documents).toBe(25);
      expect(reopened.bm25Index.size).toBe(info.chunks);
      expect(reopened.vectorIndex!.size).toBe(info.chunks);
      const ids = reopened.listDocuments({ limit: 1000 }).documents.flatMap((document) => document.chunkIds);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.length).toBe(info.chunks);
    },
  );

  it('commits a long ingest in steps, so a crash loses only the last step', async () => {
    const { rag, control } = crashableStore('manifest');
    const collection = await rag.createCollection('docs');
    let commits = 0;
    const inputs = documents(0, 300);
    await collection.upsertDocuments(inputs.slice(0, 128), { commitEvery: 64 });
    commits = collection.info().generation;
    expect(commits).toBe(2);
    control.armed = true;
    await expect(collection.upsertDocuments(inputs.slice(128), { commitEvery: 64 })).rejects.toThrow();
    expect(collection.info().documents).toBe(128);
  });

  it('removes files left by an interrupted write when it loads', async () => {
    const { rag } = crashableStore();
    const collection = await rag.createCollection('docs');
    await collection.upsertDocuments(documents(0, 3));
    await writeFile(join(collectionDirectory(), 'store-2.jsonl'), '{"partial":');
    await writeFile(join(collectionDirectory(), '.bm25-2.bin.abc123.tmp'), 'x');
    const reopened = await crashableStore().rag.getCollection('docs');
    expect(reopened.info().documents).toBe(3);
    expect((await readdir(collectionDirectory())).sort()).toEqual([
      'bm25-1.bin',
      'manifest.json',
      'store-1.jsonl',
      'vectors-1.hnsw',
      'vectors-1.hnsw.ids.json',
    ]);
  });

  it('refuses to open a vector collection with another embedding model', async () => {
    const { rag } = crashableStore();
    await (await rag.createCollection('docs')).upsertDocuments(documents(0, 2));
    const other = createMockEmbedder({ model: 'other' });
    const { Collection } = await import('./collection.js');
    await expect(Collection.open(collectionDirectory(), { embedder: other.embedder })).rejects.toMatchObject({
      code: 'embedding_model_mismatch',
    });
  });
});
