import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
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
      'store-1.bin',
      'vectors-1.hnsw',
      'vectors-1.hnsw.labels',
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

  it('appends small commits to a log, and compaction writes a new snapshot, reusing an unchanged vector file', async () => {
    const { rag } = crashableStore();
    const collection = await rag.createCollection('docs');
    await collection.upsertDocuments(documents(0, 5));
    const sizes = async () => {
      const files = await readdir(collectionDirectory());
      return Object.fromEntries(
        await Promise.all(
          files.map(async (file) => [file, (await stat(join(collectionDirectory(), file))).size] as const),
        ),
      );
    };
    const snapshot = await sizes();
    await collection.upsertDocuments(documents(5, 10));
    await collection.deleteDocuments(['doc-1']);
    const after = await sizes();
    // The snapshot files are untouched; only the log and the manifest changed.
    expect(Object.keys(after).sort()).toEqual([
      'bm25-1.bin',
      'log-1.jsonl',
      'manifest.json',
      'store-1.bin',
      'vectors-1.hnsw',
      'vectors-1.hnsw.labels',
    ]);
    for (const file of ['bm25-1.bin', 'store-1.bin', 'vectors-1.hnsw']) {
      expect(after[file]).toBe(snapshot[file]);
    }
    const query = { query: 'topic 3 item', k: 5 };
    const reopened = await crashableStore().rag.getCollection('docs');
    expect(reopened.info()).toMatchObject({ documents: 9, generation: 3 });
    expect(reopened.getDocument('doc-1')).toBeUndefined();
    expect(await reopened.search(query)).toEqual(await collection.search(query));
    expect(await reopened.search({ ...query, mode: 'vector' })).toEqual(
      await collection.search({ ...query, mode: 'vector' }),
    );
    await reopened.compact();
    expect((await readdir(collectionDirectory())).sort()).toEqual([
      'bm25-4.bin',
      'manifest.json',
      'store-4.bin',
      'vectors-4.hnsw',
      'vectors-4.hnsw.labels',
    ]);
    // A metadata-only change, then compaction: the vectors did not change, so their file is kept.
    await reopened.upsertDocuments([{ ...documents(0, 1)[0]!, metadata: { topic: 99 } }]);
    await reopened.compact();
    expect((await readdir(collectionDirectory())).sort()).toEqual([
      'bm25-6.bin',
      'manifest.json',
      'store-6.bin',
      'vectors-4.hnsw',
      'vectors-4.hnsw.labels',
    ]);
    const last = await crashableStore().rag.getCollection('docs');
    expect(last.info()).toMatchObject({ documents: 9, generation: 6 });
    // Equal scores may swap places (the snapshot orders documents anew), so scores are compared.
    const scores = async (of: typeof last) =>
      (await of.search({ ...query, mode: 'bm25' })).map((hit) => hit.score);
    expect(await scores(last)).toEqual(await scores(reopened));
    expect((await last.search({ query: 'item 7', k: 1, mode: 'bm25' }))[0]?.documentId).toBe('doc-7');
  });

  it('compacts in the background once the log touches a quarter of the chunks', async () => {
    const { rag } = crashableStore();
    const collection = await rag.createCollection('docs', { vector: false });
    await collection.upsertDocuments(documents(0, 3000));
    for (let round = 0; round < 8; round++) {
      await collection.upsertDocuments(documents(3000 + round * 150, 3150 + round * 150));
    }
    await collection.close();
    const files = await readdir(collectionDirectory());
    expect(files.filter((file) => file.startsWith('store-'))).not.toEqual(['store-1.bin']);
    const reopened = await crashableStore().rag.getCollection('docs');
    expect(reopened.info().documents).toBe(4200);
    expect(reopened.bm25Index.size).toBe(reopened.info().chunks);
  });

  it('ignores an unfinished append when it loads, and writes over it with the next commit', async () => {
    const { rag } = crashableStore();
    const collection = await rag.createCollection('docs');
    await collection.upsertDocuments(documents(0, 3));
    await collection.upsertDocuments(documents(3, 5));
    const log = join(collectionDirectory(), 'log-1.jsonl');
    const committed = (await stat(log)).size;
    await appendFile(log, '{"put":{"id":"half-written"');
    const reopened = await crashableStore().rag.getCollection('docs');
    expect(reopened.info()).toMatchObject({ documents: 5, generation: 2 });
    // A load does not cut the file: another process may be appending under the writer lock.
    expect((await stat(log)).size).toBeGreaterThan(committed);
    await reopened.upsertDocuments(documents(5, 6));
    expect(await readFile(log, 'utf8')).not.toContain('half-written');
    expect((await crashableStore().rag.getCollection('docs')).info()).toMatchObject({ documents: 6 });
  });

  it.each([
    ['log', 'log'],
    ['manifest', 'log'],
    ['store', 'snapshot'],
    ['bm25', 'snapshot'],
    ['vectors', 'snapshot'],
    ['manifest', 'snapshot'],
  ] as const)(
    'survives a failure before the %s step of a %s commit: the last commit stays readable, a re-run adds no duplicates',
    async (step, kind) => {
      const { rag, control } = crashableStore(step);
      const collection = await rag.createCollection('docs');
      await collection.upsertDocuments(documents(0, 10));
      await collection.upsertDocuments(documents(10, 12));
      const committed = collection.info();
      control.armed = true;
      const write = kind === 'log' ? collection.upsertDocuments(documents(5, 25)) : collection.compact();
      await expect(write).rejects.toThrow(`simulated crash before ${step}`);
      // The open collection is back at its last commit...
      expect(collection.info()).toMatchObject({ documents: 12, chunks: committed.chunks, generation: 2 });
      // ...and so is what a restarted process reads.
      const restarted = crashableStore(step);
      const reopened = await restarted.rag.getCollection('docs');
      expect(reopened.info()).toMatchObject({ documents: 12, chunks: committed.chunks, generation: 2 });
      expect((await readdir(collectionDirectory())).filter((file) => file.includes('-3'))).toEqual([]);
      // Re-running the same ingest completes it, without duplicates.
      const report = await reopened.upsertDocuments(documents(5, 25));
      expect(report).toMatchObject({ added: 13, unchanged: 7 });
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
    await writeFile(join(collectionDirectory(), 'store-2.bin'), '{"partial":');
    await writeFile(join(collectionDirectory(), '.bm25-2.bin.abc123.tmp'), 'x');
    const reopened = await crashableStore().rag.getCollection('docs');
    expect(reopened.info().documents).toBe(3);
    expect((await readdir(collectionDirectory())).sort()).toEqual([
      'bm25-1.bin',
      'manifest.json',
      'store-1.bin',
      'vectors-1.hnsw',
      'vectors-1.hnsw.labels',
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
