import { afterEach, describe, expect, it } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';
import { readJsonObject } from './request-fields.js';

let fixture: RagFusionFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe('JSON routes of /api/rag', () => {
  it('refuse a text/plain body with 415 in the OpenAI error shape; uploads stay multipart', async () => {
    const rag = (fixture = await createRagFusion());
    await rag.json('POST', '/api/rag/collections', { name: 'docs' });
    const routes: [string, string, unknown][] = [
      ['POST', '/api/rag/collections', { name: 'other' }],
      ['POST', '/api/rag/search', { collection: 'docs', query: 'ports' }],
      ['POST', '/api/rag/answer', { collection: 'docs', query: 'ports' }],
      ['POST', '/api/rag/ingest', { collection: 'docs', documents: ['x'] }],
      ['DELETE', '/api/rag/documents', { collection: 'docs', ids: ['x'] }],
    ];
    for (const [method, path, body] of routes) {
      for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) {
        const response = await rag.request(method, path, JSON.stringify(body), { 'content-type': type });
        expect([method, path, type, response.status]).toEqual([method, path, type, 415]);
        expect(await response.json()).toEqual({
          error: expect.objectContaining({ type: 'invalid_request_error', code: 'unsupported_media_type' }),
        });
      }
    }
    // Nothing was created or ingested through them.
    expect((await rag.json<{ data: unknown[] }>('GET', '/api/rag/collections')).body.data).toHaveLength(1);
    const form = new FormData();
    form.set('collection', 'docs');
    form.set('file', new Blob(['Ports below 1024 need root.'], { type: 'text/plain' }), 'ports.txt');
    expect((await rag.request('POST', '/api/rag/ingest', form)).status).toBe(200);
  });

  it('refuse it in the handlers too, for routes mounted without the orchestrator’s guard', async () => {
    const body = (type?: string) =>
      readJsonObject(
        new Request('http://x/', {
          method: 'POST',
          body: '{"collection":"docs"}',
          ...(type ? { headers: { 'content-type': type } } : {}),
        }),
        1024,
      ).catch((error: unknown) => error);
    for (const type of [
      'text/plain',
      'text/plain;charset=utf-8',
      'multipart/form-data; boundary=x',
      undefined,
    ]) {
      expect(await body(type)).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    }
    for (const type of ['application/json', 'application/json; charset=utf-8', 'application/vnd.api+json']) {
      expect(await body(type)).toEqual({ collection: 'docs' });
    }
  });
});
