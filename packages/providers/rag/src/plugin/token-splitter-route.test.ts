import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';
import { countTokensWith } from '../splitters/named-tokenizer.js';
import { RagStore } from '../store/rag-store.js';

let fixture: RagFusionFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

type Json = Record<string, unknown>;
const text = Array.from({ length: 80 }, (_, index) => `Sentence number ${index} says something.`).join(' ');
const gpt4o = countTokensWith('gpt-4o');

async function chunkTexts(rag: RagFusionFixture, collection: string, id: string): Promise<string[]> {
  const { body } = await rag.json<{ chunks: { text: string }[] }>(
    'GET',
    `/api/rag/documents?collection=${collection}&id=${encodeURIComponent(id)}`,
  );
  return body.chunks.map((chunk) => chunk.text);
}

describe('the token splitter over HTTP', () => {
  it('creates a collection split by a named tokenizer, recorded in its manifest', async () => {
    const rag = (fixture = await createRagFusion());
    const created = await rag.json('POST', '/api/rag/collections', {
      name: 'tok',
      splitter: { kind: 'token', tokenizer: 'gpt-4o', chunk_size: 30, chunk_overlap: 0 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      splitter: { kind: 'token', tokenizer: 'gpt-4o', chunk_size: 30, chunk_overlap: 0 },
    });
    const ingested = await rag.json('POST', '/api/rag/ingest', {
      collection: 'tok',
      documents: [{ id: 'a', text }],
    });
    expect(ingested.status).toBe(200);
    const chunks = await chunkTexts(rag, 'tok', 'a');
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(gpt4o(text) / 30));
    for (const chunk of chunks) expect(gpt4o(chunk)).toBeLessThanOrEqual(30);
    const manifest = JSON.parse(await readFile(join(rag.dir, 'rag', 'tok', 'manifest.json'), 'utf8'));
    expect(manifest.config.splitter).toEqual({
      kind: 'token',
      tokenizer: 'gpt-4o',
      chunkSize: 30,
      chunkOverlap: 0,
    });
  });

  it('creates one on ingest with create: true, and refuses another splitter for it later', async () => {
    const rag = (fixture = await createRagFusion());
    const first = await rag.json('POST', '/api/rag/ingest', {
      collection: 'auto-made',
      create: true,
      splitter: { kind: 'token', tokenizer: 'cl100k_base', chunk_size: 25 },
      documents: [{ id: 'a', text }],
    });
    expect(first.status).toBe(200);
    const info = await rag.json('GET', '/api/rag/collections/auto-made');
    const again = await rag.json<{ error: Json }>('POST', '/api/rag/ingest', {
      collection: 'auto-made',
      splitter: { kind: 'recursive' },
      documents: [{ id: 'b', text }],
    });
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({ code: 'splitter_mismatch', param: 'splitter' });
    expect(info.body).toMatchObject({
      splitter: { kind: 'token', tokenizer: 'cl100k_base', chunk_size: 25, chunk_overlap: 5 },
    });
  });

  it('answers 400 for a token splitter without a known tokenizer', async () => {
    const rag = (fixture = await createRagFusion());
    const missing = await rag.json<{ error: Json }>('POST', '/api/rag/collections', {
      name: 'x',
      splitter: { kind: 'token' },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ param: 'splitter.tokenizer' });
    const unknown = await rag.json<{ error: Json }>('POST', '/api/rag/collections', {
      name: 'x',
      splitter: { kind: 'token', tokenizer: 'nope' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_tokenizer', param: 'splitter.tokenizer' });
    const wrongKind = await rag.json<{ error: Json }>('POST', '/api/rag/collections', {
      name: 'x',
      splitter: { kind: 'recursive', tokenizer: 'gpt-4o' },
    });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error).toMatchObject({ param: 'splitter.tokenizer' });
  });
});

describe('a later ingest', () => {
  it("splits with the collection's recorded token splitter, in a new process", async () => {
    const rag = (fixture = await createRagFusion());
    await rag.json('POST', '/api/rag/collections', {
      name: 'tok',
      vector: false,
      splitter: { kind: 'token', tokenizer: 'gpt-4o', chunk_size: 20, chunk_overlap: 0 },
    });
    await rag.json('POST', '/api/rag/ingest', { collection: 'tok', documents: [{ id: 'a', text }] });
    // Another process: a store that knows nothing of the splitter but what the manifest says.
    const store = new RagStore({ dir: rag.dir });
    try {
      const collection = await store.getCollection('tok');
      await collection.upsertDocuments([{ id: 'b', text }]);
      const chunks = collection.getDocument('b')!.chunks.map((chunk) => chunk.text);
      expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(gpt4o(text) / 20));
      for (const chunk of chunks) expect(gpt4o(chunk)).toBeLessThanOrEqual(20);
      expect(chunks).toEqual(await chunkTexts(rag, 'tok', 'a'));
    } finally {
      await store.close();
    }
  });
});
