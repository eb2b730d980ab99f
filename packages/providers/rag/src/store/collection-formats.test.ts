import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Collection } from './collection.js';
import type { Manifest } from './collection-storage.js';
import { RagStore } from './rag-store.js';

/** The hash the fixtures were embedded with (8-d, deterministic). */
function vector(text: string): number[] {
  const values = new Array<number>(8).fill(0);
  for (let index = 0; index < text.length; index++) values[index % 8]! += text.charCodeAt(index) % 17;
  return values.map((value, index) => value + index + 1);
}

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rag-formats-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const store = () =>
  new RagStore({
    dir: directory,
    embed: async (texts) => texts.map(vector),
    defaultEmbeddingModel: 'hash/8',
    embeddingCache: false,
  });
const collectionDirectory = () => join(directory, 'rag', 'docs');
const manifest = async () =>
  JSON.parse(await readFile(join(collectionDirectory(), 'manifest.json'), 'utf8')) as Manifest;

/** What a collection holds, as searches and listings see it. */
async function contents(collection: Collection) {
  const documents = collection.listDocuments({ limit: 1000 }).documents;
  // Every hit, in an order that does not depend on how ties were broken.
  const search = async (mode: 'bm25' | 'vector', query: string) =>
    (await collection.search({ query, k: 1000, mode }))
      .map((hit) => [hit.score.toFixed(5), hit.id, hit.text])
      .sort((a, b) => (a[0]! === b[0]! ? a[1]!.localeCompare(b[1]!) : Number(b[0]) - Number(a[0])));
  return {
    info: { documents: collection.info().documents, chunks: collection.info().chunks },
    documents: documents.map((document) => ({
      ...document,
      chunks: collection.getDocument(document.id)!.chunks,
    })),
    bm25: await search('bm25', 'topic item café'),
    vector: await search('vector', 'Document 7 is about topic 2'),
    sizes: [collection.bm25Index.size, collection.vectorIndex?.size],
  };
}

const fixture = (name: string) => fileURLToPath(new URL(`../__fixtures__/${name}/`, import.meta.url));

describe('collection files of earlier versions', () => {
  for (const [version, documents, files] of [
    ['v1', 20, 'JSON-lines store, JSON id map'],
    ['v2', 23, 'JSON-lines store, JSON id map'],
    ['v3', 22, 'store v4, BM25 v3 and id map v2 with packed ids'],
  ] as const) {
    it(`loads a ${version} collection (${files}), and its next snapshot is the current binary one`, async () => {
      await cp(fixture(`collection-${version}`), directory, { recursive: true });
      const rag = store();
      const collection = await rag.getCollection('docs');
      const before = await contents(collection);
      expect(before.info.documents).toBe(documents);
      expect(before.sizes).toEqual([before.info.chunks, before.info.chunks]);
      expect(before.bm25.length).toBeGreaterThan(0);
      if (version !== 'v1') {
        // The v2 fixture's log rewrote doc-4 and deleted doc-3 and doc-21.
        expect(collection.getDocument('doc-4')!.chunks.map((chunk) => chunk.text)).toEqual([
          'Document 4 was rewritten about topic 9.',
        ]);
        expect(collection.getDocument('doc-3')).toBeUndefined();
      }
      if (version === 'v3') {
        // The v3 fixture is the v2 one compacted, then a log over its binary snapshot.
        expect(collection.getDocument('doc-5')!.chunks.map((chunk) => chunk.text)).toEqual([
          'Document 5 was rewritten about topic 4.',
        ]);
        expect(collection.getDocument('doc-6')).toBeUndefined();
      }
      await collection.compact();
      await rag.close();
      expect((await manifest()).version).toBe(3);
      const files = (await readdir(collectionDirectory())).sort();
      expect(files.filter((file) => file.endsWith('.jsonl') || file.endsWith('.json'))).toEqual([
        'manifest.json',
      ]);
      expect(files.some((file) => /^store-\d+\.bin$/.test(file))).toBe(true);
      expect(files.some((file) => file.endsWith('.hnsw.labels'))).toBe(true);
      const reopened = store();
      expect(await contents(await reopened.getCollection('docs'))).toEqual(before);
      await reopened.close();
    });
  }
});

describe('vector checkpoints', () => {
  const inputs = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, offset) => ({
      id: `doc-${from + offset}`,
      text: `Note ${from + offset} about topic ${(from + offset) % 11}.`,
    }));

  it('saves the vector index so a load replays only later vectors, with the same results', async () => {
    const rag = store();
    const collection = await rag.createCollection('docs');
    await collection.upsertDocuments(inputs(0, 30));
    await collection.upsertDocuments(inputs(30, 40));
    await collection.deleteDocuments(['doc-2', 'doc-33']);
    const beforeCheckpoint = await manifest();
    expect(beforeCheckpoint.log).toMatchObject({ vectors: 10 });
    await collection.checkpointVectors();
    const checkpointed = await manifest();
    expect(checkpointed.log).toEqual({
      ...beforeCheckpoint.log,
      indexedBytes: beforeCheckpoint.log!.bytes,
      vectors: 0,
    });
    expect(checkpointed.files.vectors).not.toBe(beforeCheckpoint.files.vectors);
    expect(checkpointed.files.log).toBe(beforeCheckpoint.files.log);
    // Changes after the checkpoint are replayed into the loaded index as before.
    await collection.upsertDocuments(inputs(40, 45));
    await collection.deleteDocuments(['doc-5', 'doc-41']);
    await collection.upsertDocuments([{ id: 'doc-7', text: 'Doc 7 now says something else about topic 3.' }]);
    expect((await manifest()).log).toMatchObject({ indexedBytes: beforeCheckpoint.log!.bytes, vectors: 6 });
    const live = await contents(collection);
    await rag.close();
    const files = await readdir(collectionDirectory());
    expect(files.filter((file) => file.startsWith('vectors-')).sort()).toEqual([
      checkpointed.files.vectors,
      `${checkpointed.files.vectors}.labels`,
    ]);
    const reopened = store();
    expect(await contents(await reopened.getCollection('docs'))).toEqual(live);
    await reopened.close();
  });

  it('checkpoints on its own once the log holds 1,024 vectors the vector file lacks', async () => {
    const rag = store();
    const collection = await rag.createCollection('docs');
    await collection.upsertDocuments(inputs(0, 10));
    await collection.upsertDocuments(inputs(10, 560));
    expect((await manifest()).log).toMatchObject({ vectors: 550 });
    await collection.upsertDocuments(inputs(560, 1110));
    // The checkpoint runs behind the write that crossed the threshold; close waits for it.
    await rag.close();
    const { log, files } = await manifest();
    expect(log).toMatchObject({ vectors: 0, indexedBytes: log!.bytes });
    expect(files.vectors).not.toBe('vectors-1.hnsw');
    const reopened = store();
    const loaded = await reopened.getCollection('docs');
    expect(loaded.info().chunks).toBe(1110);
    expect(loaded.vectorIndex!.size).toBe(loaded.info().chunks);
    await reopened.close();
  });
});
