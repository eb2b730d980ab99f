import { afterEach, describe, expect, it } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';

let fixture: RagFusionFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

type Hit = { document_id: string; score: number };
type Json = Record<string, unknown>;

async function withDocs(vector: boolean) {
  const rag = (fixture = await createRagFusion());
  await rag.json('POST', '/api/rag/collections', { name: 'docs', vector });
  const copy = 'Ports below 1024 need root privileges on Linux servers.';
  await rag.json('POST', '/api/rag/ingest', {
    collection: 'docs',
    documents: [
      { id: 'copy-1', text: copy },
      { id: 'copy-2', text: copy },
      { id: 'copy-3', text: copy },
      { id: 'other', text: 'Root privileges are also needed to bind ports in containers.' },
      { id: 'fruit', text: 'Bananas are rich in potassium.' },
    ],
  });
  return rag;
}

async function search(rag: RagFusionFixture, body: Json) {
  return rag.json<{ data: Hit[]; error?: Json }>('POST', '/api/rag/search', { collection: 'docs', ...body });
}

describe('search options: mmr and min_score', () => {
  for (const vector of [false, true]) {
    it(`mmr picks different chunks over copies (${vector ? 'vectors' : 'BM25, word overlap'})`, async () => {
      const rag = await withDocs(vector);
      const query = {
        query: 'ports below 1024 need root privileges',
        k: 2,
        ...(vector ? { mode: 'vector' } : {}),
      };
      const plain = await search(rag, query);
      expect(plain.body.data.map((hit) => hit.document_id).every((id) => id.startsWith('copy-'))).toBe(true);
      const diverse = await search(rag, { ...query, mmr: { lambda: 0.5 } });
      expect(diverse.status).toBe(200);
      const ids = diverse.body.data.map((hit) => hit.document_id);
      expect(ids).toHaveLength(2);
      expect(ids[0]).toMatch(/^copy-/);
      expect(ids[1]).not.toMatch(/^copy-/);
      // `true` is the default lambda.
      expect((await search(rag, { ...query, mmr: true })).body.data.map((hit) => hit.document_id)).toEqual(
        ids,
      );
    });
  }

  it('min_score drops weaker hits, before mmr picks', async () => {
    const rag = await withDocs(false);
    const all = await search(rag, { query: 'root privileges ports', k: 10 });
    const scores = all.body.data.map((hit) => hit.score);
    expect(scores.length).toBeGreaterThan(2);
    const threshold = scores[scores.length - 1]! + (scores[0]! - scores[scores.length - 1]!) / 2;
    const above = await search(rag, { query: 'root privileges ports', k: 10, min_score: threshold });
    expect(above.body.data.length).toBeGreaterThan(0);
    expect(above.body.data.length).toBeLessThan(scores.length);
    for (const hit of above.body.data) expect(hit.score).toBeGreaterThanOrEqual(threshold);
    const none = await search(rag, { query: 'root privileges ports', min_score: scores[0]! + 1 });
    expect(none.body.data).toEqual([]);
  });

  it('answers 400 naming the field for bad values, on search and on rag/<collection>', async () => {
    const rag = await withDocs(false);
    const cases: [Json, string][] = [
      [{ mmr: 'yes' }, 'mmr'],
      [{ mmr: { lambda: 2 } }, 'mmr.lambda'],
      [{ mmr: { lambda: '0.5' } }, 'mmr.lambda'],
      [{ k: 5, mmr: { candidates: 3 } }, 'mmr.candidates'],
      [{ mmr: { candidates: 5000 } }, 'mmr.candidates'],
      [{ min_score: '0.2' }, 'min_score'],
    ];
    for (const [body, param] of cases) {
      const response = await search(rag, { query: 'ports', ...body });
      expect([body, response.status, response.body.error?.param]).toEqual([body, 400, param]);
    }
    const chat = await rag.json<{ error: Json }>('POST', '/v1/chat/completions', {
      model: 'rag/docs',
      messages: [{ role: 'user', content: 'ports?' }],
      rag: { mmr: { lambda: -1 } },
    });
    expect(chat.status).toBe(400);
    expect(chat.body.error.param).toBe('rag.mmr.lambda');
    const answer = await rag.json<{ error: Json }>('POST', '/api/rag/answer', {
      collection: 'docs',
      query: 'ports?',
      min_score: 'high',
    });
    expect([answer.status, answer.body.error.param]).toEqual([400, 'min_score']);
    const ok = await rag.json('POST', '/api/rag/answer', {
      collection: 'docs',
      query: 'ports?',
      mmr: true,
      min_score: 0,
    });
    expect(ok.status).toBe(200);
  });
});
