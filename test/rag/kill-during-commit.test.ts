/**
 * `kill -9` at every step of a commit: a child process writes to a collection with the built
 * @fusionkit/rag and SIGKILLs itself before the step; the collection a new process loads must be the
 * last commit, whole, and a re-run of the write must complete it. `npm test` builds every package first.
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
const CHILD = fileURLToPath(new URL('./fixtures/commit-child.mjs', import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rag-kill-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the child; resolves to the signal that ended it (`SIGKILL` when it killed itself), else its info. */
async function child(operation: string, killAt = 'none'): Promise<{ signal?: string; info?: unknown }> {
  try {
    const { stdout } = await run(process.execPath, [CHILD, dir, operation, killAt], { timeout: 60_000 });
    return { info: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { signal?: string; stderr?: string };
    if (failed.signal === 'SIGKILL') return { signal: 'SIGKILL' };
    throw new Error(`child failed: ${failed.stderr ?? String(error)}`);
  }
}

/** The collection as a restarted process reads it, without an embedder (searches are BM25). */
async function reload() {
  const rag = new RagStore({ dir });
  const collection = await rag.getCollection('docs');
  const info = collection.info();
  const ids = collection.listDocuments({ limit: 1000 }).documents.map((document) => document.id);
  const chunkIds = collection
    .listDocuments({ limit: 1000 })
    .documents.flatMap((document) => document.chunkIds);
  const hits = await collection.search({ query: 'topic 3 item', k: 50, mode: 'bm25' });
  await rag.close();
  return {
    documents: info.documents,
    chunks: info.chunks,
    generation: info.generation,
    ids: ids.sort(),
    bm25: collection.bm25Index.size,
    vectors: collection.vectorIndex?.size,
    uniqueChunks: new Set(chunkIds).size,
    hits: hits.map((hit) => hit.documentId).sort(),
  };
}

const cases = [
  // A first commit writes a snapshot.
  { operation: 'seed', steps: ['store', 'bm25', 'vectors', 'manifest', 'cleanup'] },
  // Small changes append to the log.
  { operation: 'add', steps: ['log', 'manifest', 'cleanup'] },
  { operation: 'delete', steps: ['log', 'manifest', 'cleanup'] },
  // Compaction writes a new snapshot of the log's state.
  { operation: 'compact', steps: ['store', 'bm25', 'vectors', 'manifest', 'cleanup'] },
  // A vector checkpoint saves the vector index and records that it holds the log's vectors.
  { operation: 'checkpoint', steps: ['vectors', 'manifest', 'cleanup'] },
] as const;

describe('kill -9 at each step of a commit', () => {
  for (const { operation, steps } of cases) {
    for (const step of steps) {
      it(`${operation}, killed before '${step}': the last commit loads whole, and a re-run completes`, async () => {
        if (operation !== 'seed') {
          await child('seed');
          if (operation !== 'add') await child('add');
          if (operation === 'compact') await child('delete');
        }
        const before = operation === 'seed' ? undefined : await reload();
        expect(await child(operation, step)).toEqual({ signal: 'SIGKILL' });
        // Killed before 'cleanup', the commit is complete: it reads as the new state.
        const committed = step === 'cleanup';
        if (operation === 'seed' && !committed) {
          // Killed before the first commit: the collection exists and is empty (or not there yet).
          const rag = new RagStore({ dir });
          const info = await rag.getCollection('docs').then((collection) => collection.info());
          expect(info).toMatchObject({ documents: 0, generation: 0 });
          await rag.close();
        } else if (!committed) {
          expect(await reload()).toEqual(before);
        }
        // Whatever the kill left, running the write again reaches the same state as one that was never killed.
        if (!committed) await child(operation);
        const after = await reload();
        expect(after.uniqueChunks).toBe(after.chunks);
        expect(after.bm25).toBe(after.chunks);
        expect(after.vectors).toBe(after.chunks);
        const expected = { seed: 20, add: 30, delete: 25, compact: 25, checkpoint: 30 }[operation];
        expect(after.documents).toBe(expected);
        // Several processes, one of which waits out the lock its killed predecessor left (2 s stale).
      }, 60_000);
    }
  }
});
