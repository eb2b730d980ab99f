import { afterEach, describe, expect, it } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';

let fixture: RagFusionFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

type Json = Record<string, unknown>;

/** Two keys: 'alpha' and 'beta' (ids `key-` and 12 hex digits of their SHA-256). */
async function twoKeys() {
  const rag = (fixture = await createRagFusion({}, { apiKeys: ['alpha-secret', 'beta-secret'] }));
  const as =
    (key: string) =>
    async <TBody = Json>(method: string, path: string, body?: unknown) => {
      const response = await rag.request(method, path, body, { authorization: `Bearer ${key}` });
      return { status: response.status, body: (await response.json()) as TBody };
    };
  return { rag, alpha: as('alpha-secret'), beta: as('beta-secret') };
}

const names = (body: { data: Json[] }) => body.data.map((entry) => entry.name ?? entry.id);

describe('RAG collections with API keys', () => {
  it('belong to the key that created them: another key gets 404 and never sees them', async () => {
    const { alpha, beta } = await twoKeys();
    const created = await alpha('POST', '/api/rag/collections', { name: 'private' });
    expect(created).toMatchObject({
      status: 201,
      body: { owner: expect.stringMatching(/^key-[0-9a-f]{12}$/), model: null },
    });
    const ingested = await alpha('POST', '/api/rag/ingest', {
      collection: 'private',
      documents: [{ id: 'secret', text: 'Ports below 1024 need root privileges.' }],
    });
    expect(ingested.status).toBe(200);
    // A second collection made by ingest with create: true belongs to its key too.
    await beta('POST', '/api/rag/ingest', {
      collection: 'beta-docs',
      create: true,
      documents: ['Beta notes.'],
    });

    // The owner uses it.
    expect(names((await alpha<{ data: Json[] }>('GET', '/api/rag/collections')).body)).toEqual(['private']);
    const hits = await alpha<{ data: Json[] }>('POST', '/api/rag/search', {
      collection: 'private',
      query: 'ports',
    });
    expect(hits.body.data[0]).toMatchObject({ document_id: 'secret' });
    const answer = await alpha('POST', '/api/rag/answer', {
      collection: 'private',
      query: 'Which ports need root?',
    });
    expect(answer).toMatchObject({ status: 200, body: { answer: 'Ports below 1024 need root [1].' } });
    // Answered in process, and still validated as a chat request: bad messages are a 400, not a 500.
    for (const messages of [[null], [{ role: 'robot', content: 'x' }], 'text']) {
      const refused = await alpha<{ error: Json }>('POST', '/api/rag/answer', {
        collection: 'private',
        messages,
      });
      expect([JSON.stringify(messages), refused.status]).toEqual([JSON.stringify(messages), 400]);
    }

    // The other key: not listed, 404 everywhere, the same 404 as a collection that does not exist.
    expect(names((await beta<{ data: Json[] }>('GET', '/api/rag/collections')).body)).toEqual(['beta-docs']);
    const refused: [string, string, unknown?][] = [
      ['GET', '/api/rag/collections/private'],
      ['POST', '/api/rag/search', { collection: 'private', query: 'ports' }],
      ['GET', '/api/rag/documents?collection=private'],
      ['GET', '/api/rag/documents?collection=private&id=secret'],
      ['DELETE', '/api/rag/documents', { collection: 'private', ids: ['secret'] }],
      ['POST', '/api/rag/answer', { collection: 'private', query: 'Which ports need root?' }],
      ['POST', '/api/rag/ingest', { collection: 'private', documents: ['planted text'] }],
      ['DELETE', '/api/rag/collections/private'],
      ['DELETE', '/api/rag/collections?name=private'],
    ];
    for (const [method, path, body] of refused) {
      const response = await beta<{ error: Json }>(method, path, body);
      expect([method, path, response.status, response.body.error?.code]).toEqual([
        method,
        path,
        404,
        'collection_not_found',
      ]);
      expect(JSON.stringify(response.body)).not.toContain('Ports below');
    }
    const missing = await beta<{ error: Json }>('GET', '/api/rag/collections/nothing-here');
    expect(missing.body.error.message).toBe("No collection 'nothing-here'");
    const status = await beta<{ collections: Json[] }>('GET', '/api/rag/status');
    expect(status.body.collections.map((entry) => entry.name)).not.toContain('private');

    // No key-owned collection is served as a model, to anyone (chat routes do not say which key asks).
    for (const client of [alpha, beta]) {
      const models = names((await client<{ data: Json[] }>('GET', '/v1/models')).body);
      expect(models.filter((id) => String(id).startsWith('rag/'))).toEqual([]);
      const chat = await client('POST', '/v1/chat/completions', {
        model: 'rag/private',
        messages: [{ role: 'user', content: 'ports?' }],
      });
      expect(chat.status).toBe(404);
    }
    // Still whole for its owner: nothing of beta's attempts landed.
    const documents = await alpha<{ data: Json[] }>('GET', '/api/rag/documents?collection=private');
    expect(documents.body.data.map((document) => document.id)).toEqual(['secret']);
  });

  it('are shared by every key when made without one (fusion ingest), and served as rag/<name>', async () => {
    const { rag, alpha, beta } = await twoKeys();
    const shared = await rag.plugin.store.createCollection('shared');
    await shared.upsertDocuments([{ id: 'ports', text: 'Ports below 1024 need root privileges.' }]);
    for (const client of [alpha, beta]) {
      expect(names((await client<{ data: Json[] }>('GET', '/api/rag/collections')).body)).toEqual(['shared']);
      const hits = await client<{ data: Json[] }>('POST', '/api/rag/search', {
        collection: 'shared',
        query: 'ports',
      });
      expect(hits.body.data).toHaveLength(1);
      expect((await client('GET', '/api/rag/collections/shared')).body).toMatchObject({
        owner: null,
        model: 'rag/shared',
      });
      const chat = await client('POST', '/v1/chat/completions', {
        model: 'rag/shared',
        messages: [{ role: 'user', content: 'Which ports need root?' }],
      });
      expect(chat.status).toBe(200);
    }
  });

  it('are read-only to keys that are not admin keys when made without one: 403 collection_read_only', async () => {
    const rag = (fixture = await createRagFusion(
      {},
      { apiKeys: ['alpha-secret', { id: 'ops', key: 'ops-secret', admin: true }] },
    ));
    const as = (key: string) => async (method: string, path: string, body?: unknown) => {
      const response = await rag.request(method, path, body, { authorization: `Bearer ${key}` });
      return { status: response.status, body: (await response.json()) as { error?: Json } };
    };
    const alpha = as('alpha-secret');
    const ops = as('ops-secret');
    const shared = await rag.plugin.store.createCollection('shared');
    await shared.upsertDocuments([{ id: 'ports', text: 'Ports below 1024 need root privileges.' }]);
    const writes: [string, string, unknown?][] = [
      ['POST', '/api/rag/ingest', { collection: 'shared', documents: ['planted text'] }],
      ['POST', '/api/rag/ingest', { collection: 'shared', create: true, documents: ['planted text'] }],
      ['DELETE', '/api/rag/documents', { collection: 'shared', ids: ['ports'] }],
      ['DELETE', '/api/rag/documents?collection=shared&id=ports'],
      ['DELETE', '/api/rag/collections/shared'],
      ['DELETE', '/api/rag/collections?name=shared'],
    ];
    for (const [method, path, body] of writes) {
      const refused = await alpha(method, path, body);
      expect([method, path, refused.status, refused.body.error]).toEqual([
        method,
        path,
        403,
        {
          message: expect.stringContaining("Collection 'shared' was made without an API key"),
          type: 'permission_error',
          code: 'collection_read_only',
          param: expect.any(String),
        },
      ]);
    }
    // Reads still work, and nothing changed.
    expect((await alpha('POST', '/api/rag/search', { collection: 'shared', query: 'ports' })).status).toBe(
      200,
    );
    expect((await shared.listDocuments()).documents.map((document) => document.id)).toEqual(['ports']);
    // An admin key may write.
    expect(
      (await ops('POST', '/api/rag/ingest', { collection: 'shared', documents: ['Admin notes.'] })).status,
    ).toBe(200);
    expect((await ops('DELETE', '/api/rag/documents', { collection: 'shared', ids: ['ports'] })).status).toBe(
      200,
    );
    expect((await ops('DELETE', '/api/rag/collections/shared')).status).toBe(200);
  });

  it('are named per key: a name another key uses is free (no 409 that would tell it exists)', async () => {
    const { rag, alpha, beta } = await twoKeys();
    expect((await alpha('POST', '/api/rag/collections', { name: 'notes' })).status).toBe(201);
    await alpha('POST', '/api/rag/ingest', {
      collection: 'notes',
      documents: [{ id: 'a', text: 'Alpha plans.' }],
    });
    // Beta makes its own 'notes': created, not 409, and each key sees only its own.
    expect((await beta('POST', '/api/rag/collections', { name: 'notes' })).status).toBe(201);
    expect((await beta('POST', '/api/rag/collections', { name: 'notes' })).status).toBe(409);
    await beta('POST', '/api/rag/ingest', {
      collection: 'notes',
      create: true,
      documents: [{ id: 'b', text: 'Beta plans.' }],
    });
    const ids = async (client: typeof alpha) =>
      (await client<{ data: Json[] }>('GET', '/api/rag/documents?collection=notes')).body.data.map(
        (document) => document.id,
      );
    expect(await ids(alpha)).toEqual(['a']);
    expect(await ids(beta)).toEqual(['b']);
    const answer = await beta<{ answer: string }>('POST', '/api/rag/answer', {
      collection: 'notes',
      query: 'plans?',
    });
    expect(answer.status).toBe(200);
    // Each key deletes its own; the other's stays.
    expect((await beta('DELETE', '/api/rag/collections/notes')).status).toBe(200);
    expect(await ids(alpha)).toEqual(['a']);
    expect((await beta('GET', '/api/rag/collections/notes')).status).toBe(404);
    // A shared name is still taken for every key (they all see it), and collections of no key, made
    // in code or by `fusion ingest`, are where they always were.
    await rag.plugin.store.createCollection('shared');
    expect((await alpha('POST', '/api/rag/collections', { name: 'shared' })).status).toBe(409);
    expect((await rag.plugin.store.listCollections()).map((info) => info.name)).toEqual(['shared']);
  });

  it('still serves a key-owned collection made before names were per key (in the shared folder)', async () => {
    const { rag, alpha, beta } = await twoKeys();
    const { ApiKeys } = await import('@fusionkit/core');
    const legacy = await rag.plugin.store.createCollection('old', {
      owner: await ApiKeys.idOf('alpha-secret'),
    });
    await legacy.upsertDocuments([{ id: 'kept', text: 'Old alpha notes.' }]);
    expect(names((await alpha<{ data: Json[] }>('GET', '/api/rag/collections')).body)).toEqual(['old']);
    expect((await alpha('GET', '/api/rag/collections/old')).status).toBe(200);
    expect((await beta('GET', '/api/rag/collections/old')).status).toBe(404);
    // Beta may use the name for its own: it is not told that alpha has one.
    expect((await beta('POST', '/api/rag/collections', { name: 'old' })).status).toBe(201);
    expect((await alpha('POST', '/api/rag/collections', { name: 'old' })).status).toBe(409);
  });
});
