import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';

let fixture: RagFusionFixture | undefined;
const servers: Server[] = [];
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve).closeAllConnections())),
  );
});

type Json = Record<string, unknown>;

async function listen(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Embeds with a hash, but holds every call after the first `free` until `release()` or an abort. */
function gatedEmbed(free: number) {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const embed = async (texts: string[], options: { signal?: AbortSignal }) => {
    if (++calls > free) {
      await new Promise<void>((resolve, reject) => {
        gate.then(resolve);
        options.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
      });
    }
    return texts.map((text) =>
      Array.from({ length: 8 }, (_, index) => ((text.charCodeAt(index) || 1) % 7) + 1),
    );
  };
  return { embed, release: () => release() };
}

async function error(rag: RagFusionFixture, body: unknown): Promise<{ status: number; error: Json }> {
  const response = await rag.json<{ error: Json }>('POST', '/api/rag/ingest', body);
  return { status: response.status, error: response.body.error };
}

describe('POST /api/rag/ingest: refusals', () => {
  it('refuses URLs to private, loopback, link-local and metadata addresses, and other schemes (400)', async () => {
    const rag = (fixture = await createRagFusion());
    await rag.json('POST', '/api/rag/collections', { name: 'docs' });
    const local = await listen((_request, response) => response.end('secret'));
    const urls = [
      `${local}/admin`,
      'http://localhost:9/',
      'http://[::1]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://0x7f000001/',
      'http://2130706433/',
      'http://10.1.2.3/',
      'http://192.168.0.1/',
      'http://[fd00::1]/',
      'http://[::ffff:127.0.0.1]/',
    ];
    for (const url of urls) {
      const refused = await error(rag, { collection: 'docs', urls: ['http://93.184.216.34/ok', url] });
      expect(refused.status, url).toBe(400);
      expect(refused.error, url).toMatchObject({ code: 'url_not_allowed', param: 'urls[1]' });
    }
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'gopher://x/']) {
      expect((await error(rag, { collection: 'docs', urls: [{ url }] })).error, url).toMatchObject({
        code: 'url_not_allowed',
        param: 'urls[0]',
      });
    }
    expect((await error(rag, { collection: 'docs', urls: ['not a url'] })).error).toMatchObject({
      code: 'invalid_url',
      param: 'urls[0]',
    });
  });

  it('refuses paths that escape the roots (400) and answers 404 for a missing file', async () => {
    const rag = (fixture = await createRagFusion());
    await rag.json('POST', '/api/rag/collections', { name: 'docs' });
    const outside = join(rag.dir, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'secret.txt'), 'top secret');
    await symlink(join(outside, 'secret.txt'), join(rag.root, 'link.txt'));
    await symlink(outside, join(rag.root, 'linked-folder'));
    const escapes = [
      '../outside/secret.txt',
      '%2e%2e/outside/secret.txt',
      '%252e%252e/outside/secret.txt',
      '..\\outside\\secret.txt',
      join(outside, 'secret.txt'),
      '/etc/passwd',
      'guide.md\0.txt',
      'link.txt',
      'linked-folder',
    ];
    for (const path of escapes) {
      const refused = await error(rag, { collection: 'docs', paths: ['guide.md', path] });
      expect(refused.status, path).toBe(400);
      expect(refused.error, path).toMatchObject({ code: 'path_not_allowed', param: 'paths[1]' });
    }
    const missing = await error(rag, { collection: 'docs', paths: [{ path: 'missing.md' }] });
    expect(missing).toMatchObject({ status: 404, error: { code: 'file_not_found', param: 'paths[0]' } });
    // Nothing was read: the collection is still empty.
    expect((await rag.json('GET', '/api/rag/collections/docs')).body).toMatchObject({ documents: 0 });
  });

  it('refuses bodies over the limits with 413', async () => {
    const rag = (fixture = await createRagFusion({ maxBodyBytes: 2000, maxUploadBytes: 3000 }));
    await rag.json('POST', '/api/rag/collections', { name: 'docs' });
    const big = await error(rag, { collection: 'docs', documents: ['x'.repeat(5000)] });
    expect(big).toMatchObject({ status: 413, error: { code: 'payload_too_large' } });
    const form = new FormData();
    form.set('collection', 'docs');
    form.append('file', new Blob(['y'.repeat(5000)], { type: 'text/plain' }), 'big.txt');
    const upload = await rag.request('POST', '/api/rag/ingest', form);
    expect(upload.status).toBe(413);
    expect(await upload.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('names the field of every other bad input', async () => {
    const rag = (fixture = await createRagFusion({ roots: [] }));
    await rag.json('POST', '/api/rag/collections', { name: 'docs' });
    const cases: [unknown, number, Json][] = [
      [{ collection: 'nope', documents: ['x'] }, 404, { code: 'collection_not_found', param: 'collection' }],
      [{ documents: ['x'] }, 400, { param: 'collection' }],
      [{ collection: 'docs' }, 400, { param: 'documents' }],
      [{ collection: 'docs', documents: 'x' }, 400, { param: 'documents' }],
      [{ collection: 'docs', documents: ['a', { title: 't' }] }, 400, { param: 'documents[1].text' }],
      [
        { collection: 'docs', documents: [{ text: 'a', format: 'doc' }] },
        400,
        { param: 'documents[0].format' },
      ],
      [
        { collection: 'docs', documents: [{ text: 'a', metadata: 3 }] },
        400,
        { param: 'documents[0].metadata' },
      ],
      [{ collection: 'docs', documents: ['a'], async: 'soon' }, 400, { param: 'async' }],
      [{ collection: 'docs', urls: [3] }, 400, { param: 'urls[0]' }],
      [{ collection: 'docs', urls: [{ href: 'x' }] }, 400, { param: 'urls[0].url' }],
      [{ collection: 'docs', documents: [null] }, 400, { param: 'documents[0]' }],
      [{ collection: 'docs', paths: ['guide.md'] }, 400, { code: 'path_not_allowed', param: 'paths[0]' }],
      [
        { collection: 'docs', documents: ['a'], webhook: 'https://hooks.example/x' },
        400,
        { code: 'webhook_not_allowed', param: 'webhook' },
      ],
      [{ collection: 'docs', documents: ['a'], webhook: 'file:///x' }, 400, { param: 'webhook' }],
    ];
    for (const [body, status, expected] of cases) {
      const refused = await error(rag, body);
      expect(refused.status, JSON.stringify(body)).toBe(status);
      expect(refused.error, JSON.stringify(body)).toMatchObject(expected);
    }
    const noFiles = new FormData();
    noFiles.set('collection', 'docs');
    const empty = await rag.request('POST', '/api/rag/ingest', noFiles);
    expect(empty.status).toBe(400);
  });

  it('fetches a URL when private networks are allowed (tests only)', async () => {
    const rag = (fixture = await createRagFusion({ allowPrivateNetwork: true }));
    const page = await listen((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(
        '<html><head><title>Ports page</title></head><body><main><p>Ports below 1024 need root.</p></main></body></html>',
      );
    });
    const ingested = await rag.json('POST', '/api/rag/ingest', {
      collection: 'web',
      create: true,
      urls: [`${page}/p`],
    });
    expect(ingested.body).toMatchObject({ documents: 1, added: 1, document_ids: [`${page}/p`] });
  });
});

describe('POST /api/rag/ingest: jobs', () => {
  it('runs a large ingest as a job with progress, and cancels it leaving the last commit', async () => {
    const gated = gatedEmbed(1);
    const rag = (fixture = await createRagFusion({ embed: gated.embed, asyncThreshold: { sources: 10 } }));
    await rag.json('POST', '/api/rag/collections', { name: 'docs' });
    const documents = Array.from({ length: 200 }, (_, index) => ({
      id: `d${index}`,
      text: `document number ${index}`,
    }));
    const response = await rag.request('POST', '/api/rag/ingest', { collection: 'docs', documents });
    expect(response.status).toBe(202);
    const job = (await response.json()) as Json;
    expect(job).toMatchObject({
      object: 'job',
      kind: 'rag.ingest',
      metadata: { collection: 'docs' },
      progress: { total: 200 },
    });
    expect(response.headers.get('location')).toBe(`/api/jobs/${job.id}`);

    // The first batch of 64 goes through; the second waits on the embedder.
    const status = async () => (await rag.json('GET', `/api/jobs/${job.id}`)).body;
    await vi.waitFor(async () => expect((await status()).progress).toEqual({ done: 64, total: 200 }));
    expect(await status()).toMatchObject({ status: 'running', detail: { added: 64, chunks_added: 64 } });

    const cancelled = await rag.json('DELETE', `/api/jobs/${job.id}`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', progress: { done: 64 } });
    // Nothing was committed (the commit comes every 1000 documents): the collection is as before.
    await vi.waitFor(async () => {
      expect((await rag.json('GET', '/api/rag/collections/docs')).body).toMatchObject({ documents: 0 });
    });
    gated.release();

    // Run again, to the end: the same documents, no duplicates.
    const again = (await rag.json('POST', '/api/rag/ingest', { collection: 'docs', documents, async: true }))
      .body;
    await vi.waitFor(async () =>
      expect((await rag.json('GET', `/api/jobs/${again.id}`)).body.status).toBe('succeeded'),
    );
    expect((await rag.json('GET', `/api/jobs/${again.id}`)).body).toMatchObject({
      progress: { done: 200, total: 200 },
      result: { object: 'rag.ingest', documents: 200, added: 200 },
    });
    expect((await rag.json('GET', '/api/rag/collections/docs')).body).toMatchObject({
      documents: 200,
      chunks: 200,
    });
    const listed = (await rag.json<{ data: Json[] }>('GET', '/api/jobs')).body.data;
    expect(listed.map((entry) => [entry.id, entry.status])).toEqual([
      [again.id, 'succeeded'],
      [job.id, 'cancelled'],
    ]);
  });

  it('runs a folder as a job, counting its files, and POSTs the webhook when done', async () => {
    const received: Json[] = [];
    const signatures: unknown[] = [];
    const hooks = await listen((request, response) => {
      let body = '';
      request.on('data', (part) => (body += part));
      request.on('end', () => {
        received.push(JSON.parse(body) as Json);
        signatures.push(request.headers['x-fusion-signature']);
        response.end();
      });
    });
    const rag = (fixture = await createRagFusion({ webhookOrigins: [hooks], webhookSecret: 'shh' }));
    const response = await rag.request('POST', '/api/rag/ingest', {
      collection: 'files',
      create: true,
      paths: ['.'],
      webhook: `${hooks}/done`,
    });
    expect(response.status).toBe(202);
    const job = (await response.json()) as Json;
    expect(job).toMatchObject({
      progress: { done: 0, total: 2 },
      webhook: { url: `${hooks}/done`, status: 'pending' },
    });
    await vi.waitFor(() => expect(received).toHaveLength(1));
    expect(received[0]).toMatchObject({
      id: job.id,
      status: 'succeeded',
      progress: { done: 2, total: 2 },
      result: { documents: 2 },
    });
    expect(signatures[0]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    await vi.waitFor(async () =>
      expect((await rag.json('GET', `/api/jobs/${job.id}`)).body).toMatchObject({
        webhook: { status: 'delivered', attempts: 1 },
      }),
    );
  });

  it('cancels the jobs of a collection that is deleted', async () => {
    const gated = gatedEmbed(0);
    const rag = (fixture = await createRagFusion({ embed: gated.embed }));
    await rag.json('POST', '/api/rag/collections', { name: 'docs' });
    const job = (
      await rag.json('POST', '/api/rag/ingest', { collection: 'docs', documents: ['a'], async: true })
    ).body;
    const deleted = await rag.json('DELETE', '/api/rag/collections/docs');
    expect(deleted.status).toBe(200);
    expect((await rag.json('GET', `/api/jobs/${job.id}`)).body).toMatchObject({ status: 'cancelled' });
  });

  it('skips the files of a folder it cannot read, ingests the rest, and names each by its relative path', async () => {
    const rag = (fixture = await createRagFusion());
    await mkdir(join(rag.root, 'messy'));
    await writeFile(join(rag.root, 'messy', 'good.md'), '# Good\n\nThis file is fine.\n');
    await writeFile(join(rag.root, 'messy', 'broken.pdf'), '%PDF-1.7\nnot really a pdf');
    await writeFile(
      join(rag.root, 'messy', 'binary.txt'),
      new Uint8Array([0, 159, 146, 150, 0, 1, 2, 3, 255]),
    );
    const expected = {
      documents: 1,
      added: 1,
      skipped: [
        { path: 'messy/binary.txt', reason: expect.any(String) },
        { path: 'messy/broken.pdf', reason: expect.any(String) },
      ],
    };
    const sync = await rag.request('POST', '/api/rag/ingest', {
      collection: 'messy',
      create: true,
      paths: ['messy'],
      async: false,
    });
    const text = await sync.text();
    expect(sync.status, text).toBe(200);
    expect(JSON.parse(text)).toMatchObject(expected);
    // The report never shows the server's absolute paths.
    expect(JSON.stringify(JSON.parse(text).skipped)).not.toContain(rag.root);
    const job = (
      await rag.json<Json>('POST', '/api/rag/ingest', { collection: 'again', create: true, paths: ['messy'] })
    ).body;
    await vi.waitFor(async () =>
      expect((await rag.json('GET', `/api/jobs/${job.id}`)).body).toMatchObject({
        status: 'succeeded',
        result: expected,
      }),
    );
    const result = (await rag.json<{ result: Json }>('GET', `/api/jobs/${job.id}`)).body.result;
    expect(JSON.stringify(result.skipped)).not.toContain(rag.root);
  });
});

describe('POST /api/rag/ingest with API keys', () => {
  it('gives the job to the key that asked: it reads it at /api/jobs, another key gets 404', async () => {
    const rag = (fixture = await createRagFusion({}, { apiKeys: ['key-a-secret', 'key-b-secret'] }));
    const as = (key: string) => ({ authorization: `Bearer ${key}` });
    expect(
      (await rag.request('POST', '/api/rag/collections', { name: 'docs' }, as('key-a-secret'))).status,
    ).toBe(201);
    const created = await rag.request(
      'POST',
      '/api/rag/ingest',
      { collection: 'docs', documents: ['alpha', 'beta'], async: true },
      as('key-a-secret'),
    );
    expect(created.status).toBe(202);
    const job = (await created.json()) as Json;
    await vi.waitFor(async () => {
      const own = await rag.request('GET', `/api/jobs/${job.id}`, undefined, as('key-a-secret'));
      expect(own.status).toBe(200);
      expect(((await own.json()) as Json).status).toBe('succeeded');
    });
    const other = await rag.request('GET', `/api/jobs/${job.id}`, undefined, as('key-b-secret'));
    expect(other.status).toBe(404);
    const cancel = await rag.request('DELETE', `/api/jobs/${job.id}`, undefined, as('key-b-secret'));
    expect(cancel.status).toBe(404);
  });
});
