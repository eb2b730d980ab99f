import { request as httpRequest } from 'node:http';
import { createFusion, type Fusion } from '@fusionkit/core';
import { type NodeServer, serve } from '@fusionkit/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToolCallingProvider } from '../../packages/core/src/tools/__fixtures__/tool-calling-provider.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * HEAD is GET without the body (RFC 9110 §9.3.2): health checks and link checkers send it, and a
 * path that answers GET must answer HEAD the same way, headers and all, with no body. Against a real
 * server on port 0.
 */
describe('HEAD requests through serve()', () => {
  let fusion: Fusion;
  let server: NodeServer;

  beforeAll(async () => {
    fusion = createFusion({
      providers: [createToolCallingProvider(() => ({ content: 'hi' }))],
      healthIntervalMs: 0,
    });
    await fusion.ready;
    server = await serve(fusion, { port: 0, signals: false });
  });
  afterAll(async () => {
    await server?.close();
  });

  function send(method: string, path: string): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(`${server.url}${path}`, { method, agent: false });
      outgoing.on('error', reject);
      outgoing.on('response', (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      });
      outgoing.end();
    });
  }

  it.each(['/health', '/v1/models', '/v1/models/fake/tools'])(
    'answers HEAD %s as GET, without the body',
    async (path) => {
      const get = await send('GET', path);
      const head = await send('HEAD', path);
      expect(get.status).toBe(200);
      expect(get.body.length).toBeGreaterThan(0);
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      expect(head.headers['content-type']).toBe(get.headers['content-type']);
      expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
    },
  );

  it('lists HEAD beside GET in Allow, and still refuses HEAD where there is no GET', async () => {
    const post = await send('POST', '/v1/models');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await send('HEAD', '/v1/chat/completions');
    expect(head.status).toBe(405);
    expect(head.headers.allow).toBe('POST');
    expect(head.body).toBe('');
  });
});
