/**
 * Two processes writing one collection at once (each commit appends to the log or writes a snapshot):
 * the writer lock makes them take turns, each over the other's last commit, so no write is lost and
 * the files stay whole. `npm test` builds every package first.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RagStore } from '@fusionkit/rag';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./fixtures/writer-child.mjs', import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rag-writers-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('two processes writing one collection', () => {
  it('take turns: every document of both is there, once, in both indexes', async () => {
    const seed = new RagStore({ dir, embed: async (texts) => texts.map(() => [1, 2, 3, 4, 5, 6, 7, 8]) });
    await seed.createCollection('docs', { vector: { model: 'hash/8' } });
    await seed.close();
    const count = 24;
    await Promise.all(
      ['a', 'b'].map((tag) => run(process.execPath, [CHILD, dir, tag, String(count)], { timeout: 120_000 })),
    );
    const rag = new RagStore({ dir });
    const collection = await rag.getCollection('docs');
    const ids = collection
      .listDocuments({ limit: 1000 })
      .documents.map((document) => document.id)
      .sort();
    // Each writer deleted every third document's predecessor: 8 of its 24.
    const expected = ['a', 'b']
      .flatMap((tag) =>
        Array.from({ length: count }, (_, index) => index)
          .filter((index) => index % 3 !== 1)
          .map((index) => `${tag}-${index}`),
      )
      .sort();
    expect(ids).toEqual(expected);
    const info = collection.info();
    expect(info.chunks).toBe(expected.length);
    expect(collection.bm25Index.size).toBe(info.chunks);
    expect(collection.vectorIndex?.size).toBe(info.chunks);
    // Generation 0, then one commit per write of either process.
    expect(info.generation).toBe(2 * (count + count / 3));
    const hits = await collection.search({ query: 'Writer b document 23', k: 1, mode: 'bm25' });
    expect(hits[0]?.documentId).toBe('b-23');
    await rag.close();
  });
});
