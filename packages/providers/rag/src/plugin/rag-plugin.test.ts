import { afterEach, describe, expect, it } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';
import { ragPlugin } from './rag-plugin.js';

let fixture: RagFusionFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

type Json = Record<string, unknown>;
type List = { data: Json[] } & Json;

async function modelIds(rag: RagFusionFixture): Promise<string[]> {
  return (await rag.fusion.models()).map((model) => model.id);
}

describe('ragPlugin: collections', () => {
  it('creates, lists, gets and deletes collections, serving each as rag/<name>', async () => {
    const rag = (fixture = await createRagFusion());
    const created = await rag.json('POST', '/api/rag/collections', {
      name: 'docs',
      description: 'Product docs',
      splitter: { chunk_size: 400, chunk_overlap: 40 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      object: 'rag.collection',
      name: 'docs',
      description: 'Product docs',
      documents: 0,
      lexical_only: false,
      vector: { model: 'mock/embed', m: 16, ef_construction: 200, ef: 100 },
      model: 'rag/docs',
    });
    const lexical = await rag.json('POST', '/api/rag/collections', { name: 'notes', vector: false });
    expect(lexical.body).toMatchObject({ lexical_only: true, vector: null, model: 'rag/notes' });
    expect(await modelIds(rag)).toEqual(expect.arrayContaining(['rag/docs', 'rag/notes']));
    const models = (await rag.json<List>('GET', '/v1/models')).body.data;
    expect(models.find((model) => model.id === 'rag/docs')).toMatchObject({
      owned_by: 'fusion',
      type: 'pipeline',
      strategy: 'rag-answer',
      targets: ['mock/gen'],
    });

    const listed = await rag.json<List>('GET', '/api/rag/collections');
    expect(listed.body.data.map((entry) => entry.name)).toEqual(['docs', 'notes']);
    expect((await rag.json('GET', '/api/rag/collections/docs')).body).toMatchObject({ name: 'docs' });

    const deleted = await rag.json('DELETE', '/api/rag/collections/docs');
    expect(deleted.body).toEqual({ object: 'rag.collection.deleted', name: 'docs', deleted: true });
    expect(await modelIds(rag)).not.toContain('rag/docs');
    const byQuery = await rag.json('DELETE', '/api/rag/collections?name=notes');
    expect(byQuery.status).toBe(200);
    expect(await modelIds(rag)).not.toContain('rag/notes');
    expect((await rag.json<List>('GET', '/api/rag/collections')).body.data).toEqual([]);
  });

  it('answers 409, 404 and 400 in the OpenAI error shape, naming the field', async () => {
    const rag = (fixture = await createRagFusion());
    await rag.json('POST', '/api/rag/collections', { name: 'docs' });
    const cases: [string, string, unknown, number, Json][] = [
      ['POST', '/api/rag/collections', { name: 'docs' }, 409, { code: 'collection_exists', param: 'name' }],
      ['POST', '/api/rag/collections', { name: '../x' }, 400, { param: 'name' }],
      ['POST', '/api/rag/collections', {}, 400, { param: 'name' }],
      ['POST', '/api/rag/collections', { name: 'v', vector: 'yes' }, 400, { param: 'vector' }],
      ['POST', '/api/rag/collections', { name: 'v', vector: { m: 1 } }, 400, { param: 'vector.m' }],
      [
        'POST',
        '/api/rag/collections',
        { name: 's', splitter: { chunk_size: 100, chunk_overlap: 100 } },
        400,
        { param: 'splitter.chunk_overlap' },
      ],
      ['GET', '/api/rag/collections/nope', undefined, 404, { code: 'collection_not_found', param: 'name' }],
      ['DELETE', '/api/rag/collections/nope', undefined, 404, { code: 'collection_not_found' }],
      ['DELETE', '/api/rag/collections', undefined, 400, { param: 'name' }],
      ['POST', '/api/rag/collections', '{not json', 400, { type: 'invalid_request_error' }],
    ];
    for (const [method, path, body, status, error] of cases) {
      const response = await rag.request(method, path, body);
      const label = `${method} ${path} ${JSON.stringify(body)}`;
      expect(response.status, label).toBe(status);
      expect(((await response.json()) as { error: Json }).error, label).toMatchObject(error);
    }
  });

  it('loads the collections of its directory at start and serves them as models', async () => {
    const first = await createRagFusion();
    await first.json('POST', '/api/rag/collections', { name: 'kept' });
    await first.fusion.close({ timeoutMs: 0 });
    const { createFusion } = await import('@fusionkit/core');
    const again = createFusion({
      healthIntervalMs: 0,
      plugins: [ragPlugin({ dir: first.dir, generator: 'mock/gen' })],
    });
    await again.ready;
    expect((await again.models()).map((model) => model.id)).toContain('rag/kept');
    await again.close({ timeoutMs: 0 });
    fixture = first;
  });

  it('serves no rag/* model without a generator, and lexical collections without an embedder', async () => {
    const rag = (fixture = await createRagFusion({ generator: undefined, embeddingModel: undefined }));
    const created = await rag.json('POST', '/api/rag/collections', { name: 'docs' });
    expect(created.body).toMatchObject({ lexical_only: true, model: null });
    expect(await modelIds(rag)).not.toContain('rag/docs');
    const answer = await rag.json<{ error: Json }>('POST', '/api/rag/answer', {
      collection: 'docs',
      query: 'hi',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/generator/);
    const vector = await rag.json<{ error: Json }>('POST', '/api/rag/collections', {
      name: 'v',
      vector: true,
    });
    expect(vector.status).toBe(400);
    expect(vector.body.error.param).toBe('vector.model');
  });
});

describe('ragPlugin: ingest, search, documents', () => {
  it('ingests texts, searches, deletes a document and no longer finds it', async () => {
    const rag = (fixture = await createRagFusion());
    await rag.json('POST', '/api/rag/collections', { name: 'docs' });
    const ingested = await rag.json('POST', '/api/rag/ingest', {
      collection: 'docs',
      metadata: { team: 'ops' },
      documents: [
        { id: 'ports', text: 'Ports below 1024 need root privileges.', title: 'Ports' },
        { id: 'fruit', text: 'Bananas are rich in potassium.', metadata: { team: 'kitchen' } },
        'A plain string is a document too.',
      ],
    });
    expect(ingested.status).toBe(200);
    expect(ingested.body).toMatchObject({
      object: 'rag.ingest',
      collection: 'docs',
      sources: 3,
      documents: 3,
      added: 3,
      lexical_only: false,
    });
    expect(ingested.body.document_ids).toEqual(['ports', 'fruit', expect.stringMatching(/^text:/)]);

    const search = (body: Json) => rag.json<List>('POST', '/api/rag/search', { collection: 'docs', ...body });
    const hits = await search({ query: 'which ports need root?', k: 2 });
    expect(hits.status).toBe(200);
    expect(hits.body).toMatchObject({ object: 'list', collection: 'docs', mode: 'hybrid' });
    expect(hits.body.data[0]).toMatchObject({
      object: 'rag.chunk',
      rank: 1,
      document_id: 'ports',
      title: 'Ports',
      text: 'Ports below 1024 need root privileges.',
      span: { start: 0, end: 38 },
      metadata: { team: 'ops' },
    });
    const bm25 = await search({ query: 'potassium', mode: 'bm25', filter: { team: { $in: ['kitchen'] } } });
    expect(bm25.body.data.map((hit) => hit.document_id)).toEqual(['fruit']);
    const filtered = await search({ query: 'potassium', mode: 'bm25', filter: { team: 'ops' } });
    expect(filtered.body.data).toEqual([]);

    const documents = await rag.json<List>('GET', '/api/rag/documents?collection=docs&limit=2');
    expect(documents.body).toMatchObject({ object: 'list', total: 3, offset: 0 });
    expect(documents.body.data.map((document) => document.id)).toEqual(['fruit', 'ports']);
    const one = await rag.json('GET', '/api/rag/documents?collection=docs&id=ports');
    expect(one.body).toMatchObject({
      object: 'rag.document',
      id: 'ports',
      chunks: [{ text: 'Ports below 1024 need root privileges.', span: { start: 0, end: 38 } }],
    });

    const deleted = await rag.json('DELETE', '/api/rag/documents?collection=docs&id=ports&id=missing');
    expect(deleted.body).toEqual({
      object: 'rag.documents.deleted',
      collection: 'docs',
      requested: 2,
      deleted: 1,
    });
    const after = await search({ query: 'which ports need root?', k: 5 });
    expect(after.body.data.map((hit) => hit.document_id)).not.toContain('ports');
    expect((await rag.json('GET', '/api/rag/documents?collection=docs&id=ports')).status).toBe(404);
    const byBody = await rag.json('DELETE', '/api/rag/documents', { collection: 'docs', ids: ['fruit'] });
    expect(byBody.body).toMatchObject({ deleted: 1 });
  });

  it('ingests paths under the roots and uploads, creating the collection when asked', async () => {
    const rag = (fixture = await createRagFusion());
    const fromPath = await rag.json('POST', '/api/rag/ingest', {
      collection: 'files',
      create: true,
      paths: ['guide.md'],
      async: false,
    });
    expect(fromPath.status).toBe(200);
    expect(fromPath.body).toMatchObject({ documents: 1, added: 1 });
    expect(fromPath.body.document_ids).toEqual(['file:docs/guide.md']);
    // A folder, forced to answer at once; its files get their relative path as metadata (so the
    // guide read before is updated).
    const folder = await rag.json('POST', '/api/rag/ingest', {
      collection: 'files',
      paths: ['.'],
      async: false,
    });
    expect(folder.body).toMatchObject({ documents: 2, added: 1, updated: 1 });

    const form = new FormData();
    form.set('collection', 'files');
    form.set('metadata', JSON.stringify({ source: 'upload' }));
    form.append('file', new Blob(['# Upload\n\nUploaded ports text.'], { type: 'text/markdown' }), 'up.md');
    form.append(
      'file',
      new Blob(['{"id":"r1","text":"json record"}\n'], { type: 'application/x-ndjson' }),
      'r.jsonl',
    );
    const uploaded = await rag.request('POST', '/api/rag/ingest', form);
    expect(uploaded.status).toBe(200);
    expect(await uploaded.json()).toMatchObject({ sources: 2, documents: 2, added: 2 });
    const hits = await rag.json<List>('POST', '/api/rag/search', {
      collection: 'files',
      query: 'uploaded',
      mode: 'bm25',
      filter: { source: 'upload' },
    });
    expect(hits.body.data[0]).toMatchObject({ document_id: 'up.md', uri: 'up.md', title: 'Upload' });
  });

  it('refuses bad searches with 4xx naming the field', async () => {
    const rag = (fixture = await createRagFusion());
    await rag.json('POST', '/api/rag/collections', { name: 'docs' });
    await rag.json('POST', '/api/rag/collections', { name: 'lex', vector: false });
    const cases: [Json, number, Json][] = [
      [{ collection: 'nope', query: 'x' }, 404, { code: 'collection_not_found', param: 'collection' }],
      [{ query: 'x' }, 400, { param: 'collection' }],
      [{ collection: 'docs' }, 400, { param: 'query' }],
      [{ collection: 'docs', query: 'x', k: 0 }, 400, { param: 'k' }],
      [{ collection: 'docs', query: 'x', k: 'five' }, 400, { param: 'k' }],
      [{ collection: 'docs', query: 'x', mode: 'semantic' }, 400, { param: 'mode' }],
      [{ collection: 'docs', query: 'x', filter: [] }, 400, { param: 'filter' }],
      [
        { collection: 'docs', query: 'x', filter: { a: { $regex: 'x' } } },
        400,
        { code: 'invalid_filter', param: 'filter' },
      ],
      [
        { collection: 'docs', query: 'x', filter: { $where: 'x' } },
        400,
        { code: 'invalid_filter', param: 'filter' },
      ],
      [{ collection: 'docs', query: 'x', filter: { a: { $in: 3 } } }, 400, { code: 'invalid_filter' }],
      [{ collection: 'docs', query: 'x', weights: [1] }, 400, { param: 'weights' }],
      [{ collection: 'lex', query: 'x', mode: 'vector' }, 400, { param: 'mode' }],
    ];
    for (const [body, status, error] of cases) {
      const response = await rag.json<{ error: Json }>('POST', '/api/rag/search', body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body.error, JSON.stringify(body)).toMatchObject(error);
    }
    const documents = await rag.json<{ error: Json }>('GET', '/api/rag/documents?collection=docs&limit=0');
    expect(documents.body.error).toMatchObject({ param: 'limit' });
    const noIds = await rag.json<{ error: Json }>('DELETE', '/api/rag/documents?collection=docs');
    expect(noIds.body.error).toMatchObject({ param: 'ids' });
  });
});

describe('ragPlugin: answers', () => {
  it('answers POST /api/rag/answer with citations', async () => {
    const rag = (fixture = await createRagFusion());
    await rag.json('POST', '/api/rag/ingest', {
      collection: 'docs',
      create: true,
      documents: [
        { id: 'ports', text: 'Ports below 1024 need root privileges.', uri: 'https://docs.test/ports' },
      ],
    });
    const answer = await rag.json('POST', '/api/rag/answer', {
      collection: 'docs',
      query: 'Which ports need root?',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      object: 'rag.answer',
      collection: 'docs',
      model: 'rag/docs',
      answer: 'Ports below 1024 need root [1].',
      citations: [
        {
          index: 1,
          document_id: 'ports',
          uri: 'https://docs.test/ports',
          span: { start: 0, end: 38 },
          text: 'Ports below 1024 need root privileges.',
          cited: true,
        },
      ],
      usage: { total_tokens: expect.any(Number) },
      trace_id: expect.any(String),
    });
    const trace = await rag.json('GET', `/api/fusion/traces/${answer.body.trace_id}`);
    expect(trace.body).toMatchObject({
      strategy: 'rag-answer',
      decision: { collection: 'docs', mode: 'hybrid', k: 5 },
      calls: [{ target: 'mock/gen', role: 'generator', outcome: 'ok' }],
    });
    const bad = await rag.json<{ error: Json }>('POST', '/api/rag/answer', {
      collection: 'docs',
      query: 'x',
      filter: { a: { $nope: 1 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_filter', param: 'filter' });
    const none = await rag.json<{ error: Json }>('POST', '/api/rag/answer', { collection: 'docs' });
    expect(none.body.error).toMatchObject({ param: 'query' });
    const stream = await rag.json<{ error: Json }>('POST', '/api/rag/answer', {
      collection: 'docs',
      query: 'x',
      stream: true,
    });
    expect(stream.body.error).toMatchObject({ param: 'stream' });
  });
});
