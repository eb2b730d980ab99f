import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFusion, type Fusion } from '@fusionkit/core';
import { createMockProvider } from '@fusionkit/core/test';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ragPlugin } from './rag-plugin.js';

type Json = Record<string, unknown>;

describe('POST /api/rag/search with rerank', () => {
  let dir: string;
  let fusion: Fusion;
  const call = async (path: string, body: unknown) => {
    const response = await fusion.handle(
      new Request(`http://rag.localhost${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    );
    return { status: response.status, body: (await response.json()) as Json };
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rag-rerank-'));
    const provider = createMockProvider({
      id: 'mock',
      models: [
        // The judge prefers the second passage it is shown.
        { id: 'judge', reply: '{"ranking": [2, 1]}' },
        { id: 'broken', error: new Error('judge down') },
      ],
    });
    fusion = createFusion({ providers: [provider], healthIntervalMs: 0 });
    await fusion.use(ragPlugin({ dir, fusion: () => fusion }));
    expect((await call('/api/rag/collections', { name: 'notes' })).status).toBeLessThan(300);
    const ingested = await call('/api/rag/ingest', {
      collection: 'notes',
      documents: [
        { id: 'one', text: 'Kettles boil water; a kettle is a kitchen tool.' },
        { id: 'two', text: 'Water boils at 100 degrees at sea level.' },
      ],
    });
    expect(ingested.status).toBe(200);
  });

  afterEach(async () => {
    await fusion.close({ timeoutMs: 0 });
    await rm(dir, { recursive: true, force: true });
  });

  it('reorders the hits with the judge model', async () => {
    const plain = await call('/api/rag/search', {
      collection: 'notes',
      query: 'kettle water',
      k: 2,
      mode: 'bm25',
    });
    const order = (plain.body.data as { document_id: string }[]).map((hit) => hit.document_id);
    expect(order).toHaveLength(2);
    const reranked = await call('/api/rag/search', {
      collection: 'notes',
      query: 'kettle water',
      k: 2,
      mode: 'bm25',
      rerank: 'mock/judge',
    });
    expect(reranked.status).toBe(200);
    expect(reranked.body.reranked).toBe(true);
    expect((reranked.body.data as { document_id: string }[]).map((hit) => hit.document_id)).toEqual(
      [...order].reverse(),
    );
  });

  it('answers 404 naming the field for a rerank model the registry does not know', async () => {
    const unknown = await call('/api/rag/search', {
      collection: 'notes',
      query: 'kettle water',
      k: 2,
      mode: 'bm25',
      rerank: { model: 'nobody/knows' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'model_not_found', param: 'rerank.model' } });
  });

  it('keeps the search order when the judge fails, and refuses a malformed rerank', async () => {
    const fallback = await call('/api/rag/search', {
      collection: 'notes',
      query: 'kettle water',
      k: 2,
      mode: 'bm25',
      rerank: { model: 'mock/broken', candidates: 5 },
    });
    expect(fallback.status).toBe(200);
    expect(fallback.body.reranked).toBe(false);
    const bad = await call('/api/rag/search', { collection: 'notes', query: 'x', rerank: 42 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { param: 'rerank' } });
  });
});
