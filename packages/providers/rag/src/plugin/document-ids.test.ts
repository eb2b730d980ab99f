import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';

let fixture: RagFusionFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

type Json = Record<string, unknown>;

/** Every response body of the test, to check that none holds the server's paths. */
function recorder(rag: RagFusionFixture) {
  const bodies: string[] = [];
  return {
    bodies,
    async json<TBody = Json>(method: string, path: string, body?: unknown) {
      const response = await rag.request(method, path, body);
      const text = await response.text();
      bodies.push(text);
      return { status: response.status, body: JSON.parse(text) as TBody };
    },
  };
}

describe('document ids of files', () => {
  it('are relative to the root: no response shows the server’s paths', async () => {
    const rag = (fixture = await createRagFusion());
    const client = recorder(rag);
    await client.json('POST', '/api/rag/collections', { name: 'docs' });
    const ingested = await client.json<{ document_ids: string[] }>('POST', '/api/rag/ingest', {
      collection: 'docs',
      paths: ['.', 'guide.md'],
      async: false,
    });
    expect(ingested.body.document_ids).toEqual([
      'file:docs/guide.md',
      'file:docs/notes.txt',
      'file:docs/guide.md',
    ]);
    const hits = await client.json<{ data: Json[] }>('POST', '/api/rag/search', {
      collection: 'docs',
      query: 'ports root',
    });
    expect(hits.body.data[0]).toMatchObject({ document_id: 'file:docs/guide.md', uri: 'file:docs/guide.md' });
    await client.json('GET', '/api/rag/documents?collection=docs');
    await client.json(
      'GET',
      `/api/rag/documents?collection=docs&id=${encodeURIComponent('file:docs/guide.md')}`,
    );
    const answer = await client.json('POST', '/v1/chat/completions', {
      model: 'rag/docs',
      messages: [{ role: 'user', content: 'Which ports need root?' }],
    });
    expect(answer.status).toBe(200);
    await client.json('POST', '/api/rag/answer', { collection: 'docs', query: 'Which ports need root?' });
    for (const body of client.bodies) {
      expect(body).not.toContain(rag.dir);
      expect(body).not.toContain('file:///');
    }
    // Nor does the generator see them (it could repeat them).
    expect(JSON.stringify(rag.provider.calls)).not.toContain(rag.dir);
  });

  it('of a collection ingested before are shown relative, found by either form, and replaced by a re-ingest', async () => {
    const rag = (fixture = await createRagFusion());
    const client = recorder(rag);
    await client.json('POST', '/api/rag/collections', { name: 'docs', vector: false });
    // What the earlier scheme stored: absolute file URLs as id and URI.
    const legacy = (name: string) => pathToFileURL(join(rag.root, name)).href;
    const collection = await rag.plugin.store.getCollection('docs');
    await collection.upsertDocuments([
      {
        id: legacy('guide.md'),
        uri: legacy('guide.md'),
        format: 'markdown',
        text: '# Guide\n\nPorts below 1024 need root.',
      },
      { id: legacy('notes.txt'), uri: legacy('notes.txt'), text: 'Bananas are rich in potassium.' },
    ]);

    const listed = await client.json<{ data: Json[] }>('GET', '/api/rag/documents?collection=docs');
    expect(listed.body.data.map((document) => [document.id, document.uri])).toEqual([
      ['file:docs/guide.md', 'file:docs/guide.md'],
      ['file:docs/notes.txt', 'file:docs/notes.txt'],
    ]);
    const hits = await client.json<{ data: Json[] }>('POST', '/api/rag/search', {
      collection: 'docs',
      query: 'ports',
    });
    expect(hits.body.data[0]).toMatchObject({ document_id: 'file:docs/guide.md', uri: 'file:docs/guide.md' });
    for (const id of [legacy('guide.md'), 'file:docs/guide.md']) {
      const found = await client.json(
        'GET',
        `/api/rag/documents?collection=docs&id=${encodeURIComponent(id)}`,
      );
      expect(found).toMatchObject({ status: 200, body: { id: 'file:docs/guide.md' } });
    }
    // Deleting by the new form finds the earlier id.
    const deleted = await client.json('DELETE', '/api/rag/documents', {
      collection: 'docs',
      ids: ['file:docs/notes.txt'],
    });
    expect(deleted.body).toMatchObject({ deleted: 1 });

    // A re-ingest stores the relative id and drops the absolute one: no duplicate.
    await client.json('POST', '/api/rag/ingest', { collection: 'docs', paths: ['guide.md'], async: false });
    expect(collection.listDocuments().total).toBe(1);
    expect(collection.getDocument('file:docs/guide.md')?.id).toBe('file:docs/guide.md');
    expect([...collection.listDocuments().documents.map((document) => document.id)]).toEqual([
      'file:docs/guide.md',
    ]);
    // The old id still finds it.
    const byOld = await client.json('DELETE', '/api/rag/documents', {
      collection: 'docs',
      ids: [legacy('guide.md')],
    });
    expect(byOld.body).toMatchObject({ deleted: 1 });
    for (const body of client.bodies) expect(body).not.toContain(`${rag.dir}`);
  });

  it('of a collection ingested before are matched by filters on documentId and uri in either form', async () => {
    const rag = (fixture = await createRagFusion());
    await rag.json('POST', '/api/rag/collections', { name: 'docs', vector: false });
    const legacy = (name: string) => pathToFileURL(join(rag.root, name)).href;
    const collection = await rag.plugin.store.getCollection('docs');
    await collection.upsertDocuments([
      { id: legacy('guide.md'), uri: legacy('guide.md'), text: 'Ports below 1024 need root.' },
      { id: legacy('ports.txt'), uri: legacy('ports.txt'), text: 'Ports above 1024 are free to use.' },
      { id: 'manual', text: 'Ports are numbered.' },
    ]);
    const search = async (filter: Json) => {
      const { status, body } = await rag.json<{ data: Json[] }>('POST', '/api/rag/search', {
        collection: 'docs',
        query: 'ports',
        filter,
      });
      expect(status).toBe(200);
      return body.data.map((hit) => hit.document_id).sort();
    };
    const guide = ['file:docs/guide.md'];
    // The relative form, as clients see the ids, finds the earlier documents: no absolute path needed.
    expect(await search({ documentId: 'file:docs/guide.md' })).toEqual(guide);
    expect(await search({ uri: 'file:docs/guide.md' })).toEqual(guide);
    expect(await search({ documentId: { $in: ['file:docs/guide.md', 'file:docs/ports.txt'] } })).toEqual([
      'file:docs/guide.md',
      'file:docs/ports.txt',
    ]);
    expect(await search({ documentId: { $ne: 'file:docs/guide.md' } })).toEqual([
      'file:docs/ports.txt',
      'manual',
    ]);
    expect(
      await search({ $or: [{ uri: { $eq: 'file:docs/ports.txt' } }, { documentId: 'manual' }] }),
    ).toEqual(['file:docs/ports.txt', 'manual']);
    // The absolute form still finds them too.
    expect(await search({ documentId: legacy('guide.md') })).toEqual(guide);
    expect(await search({ uri: { $in: [legacy('guide.md')] } })).toEqual(guide);
    expect(await search({ documentId: { $nin: [legacy('guide.md'), 'manual'] } })).toEqual([
      'file:docs/ports.txt',
    ]);

    // Re-ingested with a relative id: both forms still find it.
    await rag.json('POST', '/api/rag/ingest', { collection: 'docs', paths: ['guide.md'], async: false });
    expect(await search({ documentId: 'file:docs/guide.md' })).toEqual(guide);
    expect(await search({ documentId: legacy('guide.md') })).toEqual(guide);
  });
});
