/**
 * The RAG plugin behind a real node:http server, used the way clients use it: the official `openai`
 * client asks the model `rag/docs`, plain `fetch` drives `/api/rag/*` and `/api/jobs/*`.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatRequest, createFusion, type Fusion } from '@fusionkit/core';
import { createMockProvider, type MockProvider } from '@fusionkit/core/test';
import { type NodeServer, serve } from '@fusionkit/node';
import { ragPlugin } from '@fusionkit/rag';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

type Json = Record<string, unknown>;

/** The generator: it cites [1] only when the numbered sources it was given mention ports. */
function reply(request: ChatRequest): string {
  const system = request.messages[0];
  const sources = system?.role === 'system' && typeof system.content === 'string' ? system.content : '';
  const numbered = sources.split('Sources:')[1] ?? '';
  return /\[1\][^[]*ports below 1024/i.test(numbered)
    ? 'Ports below 1024 need root privileges [1].'
    : 'I do not know.';
}

let directory: string;
let provider: MockProvider;
let fusion: Fusion;
let server: NodeServer;
let client: OpenAI;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : body instanceof FormData
        ? { body }
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rag-e2e-'));
  const root = join(directory, 'docs');
  await mkdir(root);
  await writeFile(
    join(root, 'ports.md'),
    '# Networking\n\n## Ports\n\nPorts below 1024 need root privileges.\n',
  );
  await writeFile(join(root, 'fruit.md'), '# Fruit\n\nBananas are rich in potassium.\n');
  provider = createMockProvider({
    id: 'mock',
    models: [
      { id: 'gen', reply },
      { id: 'embed', capabilities: { embeddings: true }, dimensions: 32 },
    ],
  });
  fusion = createFusion({
    providers: [provider],
    healthIntervalMs: 0,
    maxBodyBytes: 8 * 1024 * 1024,
    plugins: [
      ragPlugin({
        dir: directory,
        roots: [root],
        fusion: () => fusion,
        embeddingModel: 'mock/embed',
        generator: 'mock/gen',
      }),
    ],
  });
  server = await serve(fusion, { port: 0, signals: false });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const created = await api('POST', '/api/rag/collections', { name: 'docs' });
  expect(created.status).toBe(201);
  const ingested = await api('POST', '/api/rag/ingest', { collection: 'docs', paths: ['.'], async: false });
  expect(ingested.body).toMatchObject({ documents: 2, added: 2 });
});

afterAll(async () => {
  await server?.close();
  await rm(directory, { recursive: true, force: true });
});

describe('rag/<collection> through the openai client', () => {
  it('lists rag/docs among the models', async () => {
    const models = await client.models.list();
    const rag = models.data.find((model) => model.id === 'rag/docs') as unknown as Json;
    expect(rag).toMatchObject({ owned_by: 'fusion', type: 'pipeline', strategy: 'rag-answer' });
  });

  it('answers with [n] citations and a citations array, the sources having reached the generator', async () => {
    const completion = await client.chat.completions.create({
      model: 'rag/docs',
      messages: [{ role: 'user', content: 'Which ports need root?' }],
    });
    expect(completion.model).toBe('rag/docs');
    expect(completion.choices[0]!.message.content).toBe('Ports below 1024 need root privileges [1].');
    const citations = (completion as unknown as { citations: Json[] }).citations;
    expect(citations[0]).toMatchObject({
      index: 1,
      document_id: 'file:docs/ports.md',
      chunk_id: expect.stringMatching(/^[0-9a-f]{64}$/),
      uri: expect.stringMatching(/ports\.md$/),
      title: 'Networking',
      score: expect.any(Number),
      span: { start: expect.any(Number), end: expect.any(Number) },
      text: expect.stringContaining('Ports below 1024 need root privileges.'),
      cited: true,
    });
    const seen = provider.calls.at(-1)!.request as ChatRequest;
    expect(seen.model).toBe('gen');
    expect(seen.messages[0]!.content).toMatch(/Sources:\n\n\[1\] Networking — file:docs\/ports\.md\n/);
    expect(seen.messages.at(-1)).toEqual({ role: 'user', content: 'Which ports need root?' });
  });

  it('streams the answer with the citations on the first chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'rag/docs',
      messages: [{ role: 'user', content: 'Which ports need root?' }],
      stream: true,
    });
    let text = '';
    const chunks: Json[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      chunks.push(chunk as unknown as Json);
    }
    expect(text).toBe('Ports below 1024 need root privileges [1].');
    expect((chunks[0]!.citations as Json[])[0]).toMatchObject({
      index: 1,
      uri: expect.stringMatching(/ports\.md$/),
    });
    // The content chunks do not repeat them (the HTTP layer's closing chunk may).
    const content = chunks.filter((chunk) => (chunk.choices as { delta: Json }[])[0]?.delta.content);
    expect(content.some((chunk) => 'citations' in chunk)).toBe(false);
  });

  it('takes retrieval options as the extra body field `rag`, and 400s bad ones', async () => {
    const completion = await client.chat.completions.create({
      model: 'rag/docs',
      messages: [{ role: 'user', content: 'Which ports need root?' }],
      // @ts-expect-error: an extra field the orchestrator understands
      rag: { k: 1, mode: 'vector', filter: { path: 'fruit.md' } },
    });
    expect(completion.choices[0]!.message.content).toBe('I do not know.');
    expect((completion as unknown as { citations: Json[] }).citations).toEqual([
      expect.objectContaining({ uri: expect.stringMatching(/fruit\.md$/), cited: false }),
    ]);
    const refused = client.chat.completions.create({
      model: 'rag/docs',
      messages: [{ role: 'user', content: 'x' }],
      // @ts-expect-error: an extra field the orchestrator understands
      rag: { filter: { path: { $regex: '.*' } } },
    });
    await expect(refused).rejects.toMatchObject({ status: 400, param: 'rag.filter', code: 'invalid_filter' });
  });
});

describe('/api/rag/* over HTTP', () => {
  it('ingests an upload, finds it, deletes it, and no longer finds it', async () => {
    const form = new FormData();
    form.set('collection', 'docs');
    form.append('file', new Blob(['Kiwis are furry on the outside.'], { type: 'text/plain' }), 'kiwi.txt');
    const uploaded = await api('POST', '/api/rag/ingest', form);
    expect(uploaded).toMatchObject({ status: 200, body: { added: 1, document_ids: ['kiwi.txt'] } });
    const found = await api('POST', '/api/rag/search', { collection: 'docs', query: 'furry kiwis', k: 1 });
    expect(found.body.data).toEqual([expect.objectContaining({ document_id: 'kiwi.txt', rank: 1 })]);
    const deleted = await api('DELETE', '/api/rag/documents?collection=docs&id=kiwi.txt');
    expect(deleted.body).toMatchObject({ deleted: 1 });
    const again = await api('POST', '/api/rag/search', {
      collection: 'docs',
      query: 'furry kiwis',
      mode: 'bm25',
    });
    expect(again.body.data).toEqual([]);
  });

  it('refuses SSRF and path escapes with 400, and an upload over the server limit with 413', async () => {
    const ssrf = await api('POST', '/api/rag/ingest', { collection: 'docs', urls: [`${server.url}/health`] });
    expect(ssrf).toMatchObject({
      status: 400,
      body: { error: { code: 'url_not_allowed', param: 'urls[0]' } },
    });
    const metadata = await api('POST', '/api/rag/ingest', {
      collection: 'docs',
      urls: ['http://169.254.169.254/latest/meta-data/'],
    });
    expect(metadata.status).toBe(400);
    const escaping = await api('POST', '/api/rag/ingest', {
      collection: 'docs',
      paths: ['../../etc/passwd'],
    });
    expect(escaping).toMatchObject({
      status: 400,
      body: { error: { code: 'path_not_allowed', param: 'paths[0]' } },
    });
    const absolute = await api('POST', '/api/rag/ingest', { collection: 'docs', paths: ['/etc/hostname'] });
    expect(absolute.status).toBe(400);
    const form = new FormData();
    form.set('collection', 'docs');
    form.append('file', new Blob([new Uint8Array(9 * 1024 * 1024)]), 'huge.txt');
    const huge = await api('POST', '/api/rag/ingest', form);
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    const unknown = await api('POST', '/api/rag/search', { collection: 'nope', query: 'x' });
    expect(unknown).toMatchObject({ status: 404, body: { error: { param: 'collection' } } });
  });

  it('refuses a sibling folder whose name starts with the root name (docs-secret for docs)', async () => {
    const root = join(directory, 'docs');
    const sibling = join(directory, 'docs-secret');
    await mkdir(sibling, { recursive: true });
    await writeFile(join(sibling, 'secret.md'), '# Secret\n\nThe launch code is 0000.\n');
    await symlink(sibling, join(root, 'peek'));
    try {
      for (const path of [join(sibling, 'secret.md'), sibling, 'peek/secret.md', 'peek']) {
        const refused = await api('POST', '/api/rag/ingest', {
          collection: 'docs',
          paths: [path],
          async: false,
        });
        expect(refused, path).toMatchObject({
          status: 400,
          body: { error: { code: 'path_not_allowed', param: 'paths[0]' } },
        });
      }
      const search = await api('POST', '/api/rag/search', {
        collection: 'docs',
        query: 'launch code',
        mode: 'bm25',
      });
      expect(search.body.data).toEqual([]);
    } finally {
      await rm(join(root, 'peek'));
    }
  });

  it('answers 202 for a large ingest and reports the job until it succeeds', async () => {
    const documents = Array.from({ length: 30 }, (_, index) => `Note ${index} about the weather.`);
    const accepted = await api('POST', '/api/rag/ingest', { collection: 'docs', documents });
    expect(accepted).toMatchObject({ status: 202, body: { object: 'job', progress: { total: 30 } } });
    await vi.waitFor(async () => {
      expect((await api('GET', `/api/jobs/${accepted.body.id}`)).body).toMatchObject({
        status: 'succeeded',
        progress: { done: 30, total: 30 },
        result: { added: 30 },
      });
    });
  });
});
