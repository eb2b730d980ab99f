import { mkdir, mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMockEmbedder } from '../__fixtures__/mock-embedder.js';
import { RagStore } from './rag-store.js';
import { WRITER_LOCK } from './writer-lock.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rag-lock-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const collectionDirectory = () => join(directory, 'rag', 'docs');

function store(writerLock?: { waitMs?: number; staleMs?: number }) {
  const mock = createMockEmbedder();
  return new RagStore({
    dir: directory,
    embed: mock.embed,
    defaultEmbeddingModel: mock.model,
    ...(writerLock ? { writerLock } : {}),
  });
}

describe('collection writer lock', () => {
  it('fails a write with 503 naming the collection while another holder keeps the lock', async () => {
    const collection = await store({ waitMs: 300 }).createCollection('docs');
    await collection.upsertDocuments([{ id: 'a', text: 'First document.' }]);
    const release = await lockfile.lock(collectionDirectory(), {
      lockfilePath: join(collectionDirectory(), WRITER_LOCK),
      realpath: false,
    });
    try {
      await expect(collection.upsertDocuments([{ id: 'b', text: 'Second document.' }])).rejects.toMatchObject(
        {
          status: 503,
          code: 'collection_locked',
          message: expect.stringContaining("Collection 'docs' is being written by another process"),
        },
      );
    } finally {
      await release();
    }
    // Nothing of the refused write stayed; the next one goes through.
    expect(collection.info().documents).toBe(1);
    await collection.upsertDocuments([{ id: 'b', text: 'Second document.' }]);
    expect(collection.info()).toMatchObject({ documents: 2, generation: 2 });
  });

  it('takes over a lock its holder left behind (a killed process) once it is stale', async () => {
    const collection = await store({ staleMs: 2000 }).createCollection('docs');
    await mkdir(join(collectionDirectory(), WRITER_LOCK));
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(join(collectionDirectory(), WRITER_LOCK), longAgo, longAgo);
    await collection.upsertDocuments([{ id: 'a', text: 'First document.' }]);
    expect(collection.info()).toMatchObject({ documents: 1, generation: 1 });
  });

  it("writes over the other writer's last commit: neither loses the other's documents", async () => {
    const first = await store().createCollection('docs');
    const second = await store().getCollection('docs');
    await first.upsertDocuments([{ id: 'a', text: 'Written by the first store.' }]);
    await second.upsertDocuments([{ id: 'b', text: 'Written by the second store.' }]);
    await first.deleteDocuments(['b']);
    await second.upsertDocuments([{ id: 'c', text: 'Written by the second store again.' }]);
    const reopened = await store().getCollection('docs');
    expect(reopened.listDocuments().documents.map((document) => document.id)).toEqual(['a', 'c']);
    expect(reopened.info()).toMatchObject({ documents: 2, chunks: 2, generation: 4 });
    expect(reopened.bm25Index.size).toBe(2);
    expect(reopened.vectorIndex?.size).toBe(2);
  });
});
