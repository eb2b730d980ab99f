import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deferred,
  fakeFusion,
  rawRequest,
  startServer,
  type TestServer,
} from './__fixtures__/start-server.js';
import { REQUEST_BYTES } from './node-request.js';
import { RESPONSE_TEXT } from './write-response.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type BytesRequest = Request & { [REQUEST_BYTES](limit: number): Promise<Uint8Array> };

describe('the body of a POST stays on the socket until read', () => {
  it('hands the core its bytes without a Web stream, once', async () => {
    const seen = deferred<{ text: string; second: string; bodyUsed: boolean }>();
    const fusion = fakeFusion(async (request) => {
      const bytes = await (request as BytesRequest)[REQUEST_BYTES](1024);
      const second = await (request as BytesRequest)[REQUEST_BYTES](1024).then(
        () => 'read twice',
        (error: Error) => error.message,
      );
      seen.resolve({ text: Buffer.from(bytes).toString(), second, bodyUsed: request.bodyUsed });
      return new Response('ok');
    });
    server = await startServer(fusion);
    await rawRequest(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{"model":"m"}' });
    expect(await seen.promise).toEqual({
      text: '{"model":"m"}',
      second: 'The request body was already read.',
      bodyUsed: true,
    });
  });

  it('refuses bytes past the limit with the core’s PayloadTooLargeError shape', async () => {
    const seen = deferred<{ name: string; status: number }>();
    const fusion = fakeFusion(async (request) => {
      const error = (await (request as BytesRequest)
        [REQUEST_BYTES](10)
        .catch((caught: unknown) => caught)) as {
        name: string;
        status: number;
      };
      seen.resolve({ name: error.name, status: error.status });
      return new Response('no', { status: 413 });
    });
    server = await startServer(fusion);
    const response = await rawRequest(`${server.url}/v1/x`, { method: 'POST', body: 'x'.repeat(100) });
    expect(response.status).toBe(413);
    expect(await seen.promise).toEqual({ name: 'PayloadTooLargeError', status: 413 });
  });

  it('streams to any other reader: body, json(), formData(), clone()', async () => {
    const fusion = fakeFusion(async (request) => {
      const url = new URL(request.url);
      if (url.pathname === '/json') return Response.json(await request.json());
      if (url.pathname === '/form') {
        const form = await request.formData();
        return Response.json({ name: form.get('name'), file: await (form.get('file') as File).text() });
      }
      if (url.pathname === '/clone') {
        const copy = request.clone();
        return Response.json({ copy: await copy.text(), original: await request.text() });
      }
      return new Response(request.body);
    });
    server = await startServer(fusion);
    expect((await rawRequest(`${server.url}/json`, { method: 'POST', body: '{"a":1}' })).body).toBe(
      '{"a":1}',
    );
    expect((await rawRequest(`${server.url}/clone`, { method: 'POST', body: 'twice' })).body).toBe(
      '{"copy":"twice","original":"twice"}',
    );
    expect((await rawRequest(`${server.url}/stream`, { method: 'POST', body: 'streamed' })).body).toBe(
      'streamed',
    );
    const form = new FormData();
    form.set('name', 'notes');
    form.set('file', new File(['file text'], 'notes.txt'));
    const multipart = new Response(form);
    const response = await fetch(`${server.url}/form`, {
      method: 'POST',
      headers: { 'content-type': multipart.headers.get('content-type')! },
      body: await multipart.arrayBuffer(),
    });
    expect(await response.json()).toEqual({ name: 'notes', file: 'file text' });
  });
});

describe('responses that carry their text', () => {
  it('are written in one piece with content-length, and without a body for HEAD', async () => {
    const textResponse = () => {
      const response = new Response(null, { status: 200, headers: { 'content-type': 'application/json' } });
      Object.defineProperty(response, RESPONSE_TEXT, { value: '{"ok":"é"}' });
      // The text is the whole truth: a stream made of the body would be a bug.
      Object.defineProperty(response, 'body', {
        get() {
          throw new Error('body must not be read');
        },
      });
      return response;
    };
    server = await startServer(fakeFusion(() => textResponse()));
    const response = await rawRequest(`${server.url}/x`, { method: 'GET' });
    expect(response.body).toBe('{"ok":"é"}');
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength('{"ok":"é"}')));
    const head = await new Promise<{ status: number; length: string | undefined; body: string }>(
      (resolve) => {
        httpRequest(`${server!.url}/x`, { method: 'HEAD' }, (incoming) => {
          let body = '';
          incoming.on('data', (chunk) => (body += chunk));
          incoming.on('end', () =>
            resolve({ status: incoming.statusCode!, length: incoming.headers['content-length'], body }),
          );
        }).end();
      },
    );
    expect(head).toEqual({ status: 200, length: String(Buffer.byteLength('{"ok":"é"}')), body: '' });
  });
});

describe('the request handle sees', () => {
  it('is a Request whose other members forward to a real one built on demand', async () => {
    const seen = deferred<Record<string, unknown>>();
    const fusion = fakeFusion(async (request) => {
      const copy = request.clone();
      seen.resolve({
        isRequest: request instanceof Request,
        method: request.method,
        header: request.headers.get('x-test'),
        cache: request.cache,
        redirect: request.redirect,
        aborted: request.signal.aborted,
        copy: await copy.text(),
        text: await request.text(),
        used: request.bodyUsed,
      });
      return new Response('ok');
    });
    server = await startServer(fusion);
    await rawRequest(`${server.url}/x`, { method: 'PUT', headers: { 'x-test': 'yes' }, body: 'payload' });
    expect(await seen.promise).toEqual({
      isRequest: true,
      method: 'PUT',
      header: 'yes',
      cache: 'default',
      redirect: 'follow',
      aborted: false,
      copy: 'payload',
      text: 'payload',
      used: true,
    });
  });
});
