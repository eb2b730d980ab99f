import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UpstreamError } from '@fusionkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';

let fixture: RagFusionFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

type Json = Record<string, unknown>;

/** The collection's files and what the API says of it. */
async function snapshot(rag: RagFusionFixture) {
  const folder = join(rag.dir, 'rag', 'docs');
  const files: Record<string, string> = {};
  for (const name of (await readdir(folder)).sort())
    files[name] = await readFile(join(folder, name), 'base64');
  const info = (await rag.json('GET', '/api/rag/collections/docs')).body;
  const documents = (await rag.json('GET', '/api/rag/documents?collection=docs&limit=1000')).body;
  const hits = (
    await rag.json('POST', '/api/rag/search', { collection: 'docs', query: 'fact', k: 50, mode: 'bm25' })
  ).body;
  return { files, info, documents, hits };
}

describe('ingest into a vector collection with the embedding model down', () => {
  for (const [name, failure] of [
    ['unreachable', () => new TypeError('fetch failed')],
    ['answering 502', () => new UpstreamError('Bad gateway from upstream', { status: 502 })],
  ] as const) {
    it(`answers 503 naming the model and leaves the collection as it was (${name})`, async () => {
      let embedCalls = 0;
      let down = false;
      const rag = (fixture = await createRagFusion({
        // The second embedding call of an ingest fails: the first batch was embedded, none may stay.
        embed: async (texts) => {
          embedCalls++;
          if (down && embedCalls > 1) throw failure();
          return texts.map((text) => [text.length % 7, 1, 2, 3]);
        },
        store: { embeddingBatchSize: 8, embeddingCache: false },
      }));
      await rag.json('POST', '/api/rag/collections', { name: 'docs' });
      expect(
        (
          await rag.json('POST', '/api/rag/ingest', {
            collection: 'docs',
            documents: [{ id: 'first', text: 'First fact.' }],
          })
        ).status,
      ).toBe(200);
      const before = await snapshot(rag);
      down = true;
      embedCalls = 0;
      const documents = Array.from({ length: 100 }, (_, index) => ({
        id: `d${index}`,
        text: `Fact number ${index}.`,
      }));
      const failed = await rag.json<{ error: Json }>('POST', '/api/rag/ingest', {
        collection: 'docs',
        documents,
        async: false,
      });
      expect(failed.status).toBe(503);
      expect(failed.body.error).toMatchObject({ code: 'embedding_model_unavailable' });
      expect(String(failed.body.error.message)).toContain("'mock/embed'");
      expect(embedCalls).toBeGreaterThan(1);
      expect(await snapshot(rag)).toEqual(before);
    });
  }
});
