import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';
import { countWords, writeTinyTokenizer } from '../__fixtures__/tiny-tokenizer.js';
import { isTokenizerLoading } from '../splitters/named-tokenizer.js';
import { RagStore } from '../store/rag-store.js';

let fixture: RagFusionFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

type Json = Record<string, unknown>;
const text = Array.from({ length: 80 }, (_, index) => `Sentence number ${index} says something.`).join(' ');

async function chunkTexts(rag: RagFusionFixture, collection: string, id: string): Promise<string[]> {
  const { body } = await rag.json<{ chunks: { text: string }[] }>(
    'GET',
    `/api/rag/documents?collection=${collection}&id=${encodeURIComponent(id)}`,
  );
  return body.chunks.map((chunk) => chunk.text);
}

describe('a token splitter with a local tokenizer.json over HTTP', () => {
  it('splits by it, records its absolute path, and splits the same way in a later process', async () => {
    const rag = (fixture = await createRagFusion());
    const model = join(rag.root, 'models', 'tiny');
    const file = await writeTinyTokenizer(model);
    const created = await rag.json('POST', '/api/rag/collections', {
      name: 'hf',
      vector: false,
      splitter: { kind: 'token', tokenizer: model, chunk_size: 20, chunk_overlap: 0 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ splitter: { kind: 'token', tokenizer: file, chunk_size: 20 } });
    const manifest = JSON.parse(await readFile(join(rag.dir, 'rag', 'hf', 'manifest.json'), 'utf8'));
    expect(manifest.config.splitter).toEqual({
      kind: 'token',
      tokenizer: file,
      chunkSize: 20,
      chunkOverlap: 0,
    });

    // Naming the folder again (as the file was recorded) is the same splitter, not a mismatch.
    const ingested = await rag.json('POST', '/api/rag/ingest', {
      collection: 'hf',
      splitter: { kind: 'token', tokenizer: model },
      documents: [{ id: 'a', text }],
    });
    expect(ingested.status).toBe(200);
    const chunks = await chunkTexts(rag, 'hf', 'a');
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(countWords(text) / 20));
    for (const chunk of chunks) expect(countWords(chunk)).toBeLessThanOrEqual(20);

    const store = new RagStore({ dir: rag.dir });
    try {
      const collection = await store.getCollection('hf');
      await collection.upsertDocuments([{ id: 'b', text }]);
      expect(collection.getDocument('b')!.chunks.map((chunk) => chunk.text)).toEqual(chunks);
    } finally {
      await store.close();
    }
  });

  it('answers 400 naming splitter.tokenizer for a missing file or one that is not a tokenizer', async () => {
    const rag = (fixture = await createRagFusion());
    const broken = join(rag.root, 'broken.json');
    await writeFile(broken, '{ not json');
    await writeFile(join(rag.dir, 'outside.json'), '{ not json');
    const cases: [string, string][] = [
      [join(rag.root, 'no-such-model'), 'tokenizer_not_found'],
      [broken, 'invalid_tokenizer'],
      // Only files inside the roots (as for ingested paths): the server opens nothing else.
      [join(rag.dir, 'outside.json'), 'path_not_allowed'],
      ['/etc/passwd.json', 'path_not_allowed'],
      [`${rag.root}/../outside.json`, 'path_not_allowed'],
    ];
    for (const [tokenizer, code] of cases) {
      const created = await rag.json<{ error: Json }>('POST', '/api/rag/collections', {
        name: 'x',
        splitter: { kind: 'token', tokenizer },
      });
      expect(created.status).toBe(400);
      expect(created.body.error).toMatchObject({ code, param: 'splitter.tokenizer' });
      const ingested = await rag.json<{ error: Json }>('POST', '/api/rag/ingest', {
        collection: 'y',
        create: true,
        splitter: { kind: 'token', tokenizer },
        documents: [{ id: 'a', text }],
      });
      expect(ingested.status).toBe(400);
      expect(ingested.body.error).toMatchObject({ code, param: 'splitter.tokenizer' });
    }
    expect((await rag.json<{ data: Json[] }>('GET', '/api/rag/collections')).body.data).toEqual([]);
  });
});

describe('loading an encoding', () => {
  it('does not stop the server: other requests are answered while it loads', async () => {
    const rag = (fixture = await createRagFusion());
    const events: string[] = [];
    const creating = rag
      .json('POST', '/api/rag/collections', {
        name: 'big',
        vector: false,
        splitter: { kind: 'token', tokenizer: 'gpt-4o' },
      })
      .then((response) => {
        events.push('collection created');
        return response;
      });
    for (let turn = 0; turn < 100_000 && !isTokenizerLoading('gpt-4o'); turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(isTokenizerLoading('gpt-4o')).toBe(true);
    const models = await rag.json('GET', '/v1/models');
    events.push(isTokenizerLoading('gpt-4o') ? 'models listed while loading' : 'models listed after loading');
    expect(models.status).toBe(200);
    expect((await creating).status).toBe(201);
    expect(events).toEqual(['models listed while loading', 'collection created']);
  }, 60_000);
});
