import { afterEach, describe, expect, it } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';

let fixture: RagFusionFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const ALPHA = { authorization: 'Bearer alpha-secret' };
const ADMIN = { authorization: 'Bearer ops-secret' };

/** The orchestrator with two keys, and the key every embedding call was made for, in order. */
async function start(options: Parameters<typeof createRagFusion>[0] = {}) {
  const rag = (fixture = await createRagFusion(options, {
    apiKeys: [
      { id: 'alpha', key: 'alpha-secret' },
      { id: 'ops', key: 'ops-secret', admin: true },
    ],
  }));
  const embeddings: (string | undefined)[] = [];
  rag.fusion.events.on('provider:call:end', (event) => {
    if (event.model.endsWith('embed')) embeddings.push(event.apiKeyId);
  });
  /** The keys charged for the embedding calls made since the last look. */
  const charged = () => embeddings.splice(0);
  return { rag, charged };
}

async function ok(response: Promise<Response>, status = 200): Promise<Record<string, unknown>> {
  const answer = await response;
  const body = (await answer.json()) as Record<string, unknown>;
  expect(answer.status, JSON.stringify(body)).toBe(status);
  return body;
}

describe('embedding calls of the RAG routes', () => {
  it('are charged to the key that ingests, searches and asks its own collection', async () => {
    const { rag, charged } = await start();
    await ok(rag.request('POST', '/api/rag/collections', { name: 'mine' }, ALPHA), 201);
    await ok(
      rag.request(
        'POST',
        '/api/rag/ingest',
        { collection: 'mine', documents: [{ id: 'ports', text: 'Ports below 1024 need root.' }] },
        ALPHA,
      ),
    );
    expect(charged()).toEqual(['alpha']);
    await ok(
      rag.request('POST', '/api/rag/search', { collection: 'mine', query: 'ports', mode: 'vector' }, ALPHA),
    );
    expect(charged()).toEqual(['alpha']);
    await ok(
      rag.request('POST', '/api/rag/answer', { collection: 'mine', query: 'Which ports need root?' }, ALPHA),
    );
    expect(charged()).toEqual(['alpha']);
  });

  it('are charged to the key that asks a shared collection served as a model', async () => {
    const { rag, charged } = await start();
    // Made without a key (as `fusion ingest` does): shared, served as rag/shared; an admin key adds to it.
    await rag.plugin.store.createCollection('shared');
    await ok(
      rag.request(
        'POST',
        '/api/rag/ingest',
        { collection: 'shared', documents: [{ id: 'b', text: 'Bananas are rich in potassium.' }] },
        ADMIN,
      ),
    );
    expect(charged()).toEqual(['ops']);
    const models = (await ok(rag.request('GET', '/v1/models', undefined, ALPHA))) as {
      data: { id: string }[];
    };
    const model = models.data.map((entry) => entry.id).find((id) => id.startsWith('rag/'));
    expect(model).toBeDefined();
    await ok(
      rag.request(
        'POST',
        '/v1/chat/completions',
        { model: 'rag/shared', messages: [{ role: 'user', content: 'What is rich in potassium?' }] },
        ALPHA,
      ),
    );
    expect(charged()).toEqual(['alpha']);
  });

  it('of an ingest that runs as a job are charged to the key that started it', async () => {
    const { rag, charged } = await start();
    await ok(rag.request('POST', '/api/rag/collections', { name: 'mine' }, ALPHA), 201);
    const job = (await ok(
      rag.request(
        'POST',
        '/api/rag/ingest',
        { collection: 'mine', documents: [{ id: 'report', text: 'A long report.' }], async: true },
        ALPHA,
      ),
      202,
    )) as { id: string };
    await expect
      .poll(
        async () =>
          ((await ok(rag.request('GET', `/api/jobs/${job.id}`, undefined, ALPHA))) as { status: string })
            .status,
      )
      .toBe('succeeded');
    expect(charged()).toEqual(['alpha']);
  });
});
