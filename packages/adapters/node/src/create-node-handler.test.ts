import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deferred,
  fakeFusion,
  rawRequest,
  startServer,
  type TestServer,
  within,
} from './__fixtures__/start-server.js';
import { createNodeHandler } from './create-node-handler.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const json = (body: unknown, init?: ResponseInit) =>
  new Response(JSON.stringify(body), {
    ...init,
    headers: { 'content-type': 'application/json', ...init?.headers },
  });

describe('createNodeHandler', () => {
  it('passes method, URL and query of a GET, without a body', async () => {
    const fusion = fakeFusion((request) =>
      json({ method: request.method, url: request.url, body: request.body }),
    );
    server = await startServer(fusion);
    const response = await fetch(`${server.url}/v1/models?limit=2`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      method: 'GET',
      url: `${server.url}/v1/models?limit=2`,
      body: null,
    });
  });

  it('streams a POST body to handle and sends the answer with content-length', async () => {
    const fusion = fakeFusion(
      async (request) => new Response(`echo:${await request.text()}`, { status: 201 }),
    );
    server = await startServer(fusion);
    const response = await rawRequest(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"m"}',
    });
    expect(response.status).toBe(201);
    expect(response.body).toBe('echo:{"model":"m"}');
    expect(response.headers['content-length']).toBe(String('echo:{"model":"m"}'.length));
    expect(response.headers['transfer-encoding']).toBeUndefined();
  });

  it('round-trips headers: repeated request headers joined, several set-cookie kept', async () => {
    const fusion = fakeFusion((request) => {
      const headers = new Headers({ 'x-echo-multi': request.headers.get('x-multi') ?? '' });
      headers.set('x-echo-auth', request.headers.get('authorization') ?? '');
      headers.append('set-cookie', 'a=1; Path=/');
      headers.append('set-cookie', 'b=2; Path=/');
      return new Response('ok', { headers });
    });
    server = await startServer(fusion);
    const response = await rawRequest(server.url, {
      headers: { 'x-multi': ['one', 'two'], authorization: 'Bearer k' },
    });
    expect(response.headers['x-echo-multi']).toBe('one, two');
    expect(response.headers['x-echo-auth']).toBe('Bearer k');
    expect(response.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
  });

  it('builds the URL from basePath and, when trusted, x-forwarded-proto/host', async () => {
    const fusion = fakeFusion((request) => new Response(request.url));
    server = await startServer(fusion, { basePath: '/ai', trustProxy: true });
    const forwarded = await rawRequest(`${server.url}/v1/models`, {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com, proxy.local' },
    });
    expect(forwarded.body).toBe('https://api.example.com/ai/v1/models');
    await server.close();

    server = await startServer(fusion);
    const direct = await rawRequest(`${server.url}/v1/models`, {
      headers: { 'x-forwarded-host': 'evil.example' },
    });
    expect(direct.body).toBe(`${server.url}/v1/models`);
  });

  it('answers 400 to a Host header that would change the path', async () => {
    const fusion = fakeFusion(() => new Response('unreachable'));
    server = await startServer(fusion);
    const response = await rawRequest(`${server.url}/v1/models`, {
      headers: { host: 'evil.example/admin?' },
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('invalid_request');
    expect(fusion.requests).toHaveLength(0);
  });

  it('answers 413 to a content-length over the limit without reading the body or calling handle', async () => {
    const fusion = fakeFusion(() => new Response('unreachable'));
    server = await startServer(fusion, { maxBodyBytes: 1024 * 1024 });
    const response = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: string }>(
      (resolve, reject) => {
        // Announce 5 MB and send only the headers: the answer must not wait for the body.
        const request = httpRequest(`${server!.url}/v1/chat/completions`, {
          method: 'POST',
          agent: false,
          headers: { 'content-length': String(5 * 1024 * 1024), 'x-request-id': 'req-413' },
        });
        request.on('error', reject);
        request.on('response', (incoming) => {
          let body = '';
          incoming.on('data', (chunk) => (body += chunk));
          incoming.on('end', () =>
            resolve({ status: incoming.statusCode!, headers: incoming.headers, body }),
          );
        });
        request.flushHeaders();
      },
    );
    expect(response.status).toBe(413);
    expect(response.headers.connection).toBe('close');
    expect(response.headers['x-request-id']).toBe('req-413');
    expect(JSON.parse(response.body)).toEqual({
      error: {
        message: 'The request body is larger than the limit of 1048576 bytes.',
        type: 'invalid_request_error',
        code: 'payload_too_large',
        param: null,
      },
    });
    expect(fusion.requests).toHaveLength(0);
  });

  it('generates an x-request-id for the 413 when the client sent none or an unsafe one', async () => {
    server = await startServer(
      fakeFusion(() => new Response('unreachable')),
      { maxBodyBytes: 10 },
    );
    const response = await rawRequest(server.url, {
      method: 'POST',
      headers: { 'x-request-id': 'bad id with spaces' },
      body: 'x'.repeat(11),
    });
    expect(response.status).toBe(413);
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('errors the body stream of a chunked body that passes the limit, and answers 413', async () => {
    const seen = deferred<{ name: string; status: number; code: string }>();
    const fusion = fakeFusion(async (request) => {
      try {
        await request.arrayBuffer();
        return new Response('read everything', { status: 200 });
      } catch (error) {
        const { name, status, code, message } = error as {
          name: string;
          status: number;
          code: string;
          message: string;
        };
        seen.resolve({ name, status, code });
        const body = { error: { message, type: 'invalid_request_error', code, param: null } };
        return json(body, { status });
      }
    });
    server = await startServer(fusion, { maxBodyBytes: 1024 * 1024 });

    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const response = await new Promise<{ status: number; connection: string | undefined }>(
      (resolve, reject) => {
        const request = httpRequest(`${server!.url}/v1/chat/completions`, { method: 'POST', agent: false });
        // The server stops reading and closes: the upload fails after the answer. That is expected.
        request.on('error', () => {});
        request.on('response', (incoming) => {
          resolve({ status: incoming.statusCode!, connection: incoming.headers.connection });
          incoming.resume();
        });
        const write = () => {
          while (sent < 5 * 1024 * 1024) {
            sent += chunk.length;
            if (!request.write(chunk)) return void request.once('drain', write);
          }
          request.end();
        };
        write();
        setTimeout(() => reject(new Error('no answer')), 5_000).unref();
      },
    );
    expect(response.status).toBe(413);
    expect(response.connection).toBe('close');
    expect(await seen.promise).toEqual({
      name: 'PayloadTooLargeError',
      status: 413,
      code: 'payload_too_large',
    });
  });

  it('closes the connection after answering before the body has arrived', async () => {
    const fusion = fakeFusion(() => new Response('no body needed', { status: 401 }));
    server = await startServer(fusion);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = httpRequest(server!.url, {
        method: 'POST',
        agent: false,
        headers: { connection: 'keep-alive' },
      });
      request.on('error', reject);
      request.on('response', resolve);
      // Part of a chunked body, and the rest never comes.
      request.write('{"model":');
    });
    response.resume();
    expect(response.statusCode).toBe(401);
    expect(response.headers.connection).toBe('close');
  });

  it('aborts the Request signal within 100 ms when the client goes away before the answer', async () => {
    const called = deferred();
    const aborted = deferred<unknown>();
    let clone: Request | undefined;
    const fusion = fakeFusion(
      (request) =>
        new Promise<Response>((resolve) => {
          clone = request.clone();
          request.signal.addEventListener('abort', () => {
            aborted.resolve(request.signal.reason);
            resolve(new Response('too late'));
          });
          called.resolve();
        }),
    );
    server = await startServer(fusion);
    const request = httpRequest(`${server.url}/v1/chat/completions`, { method: 'POST', agent: false });
    request.on('error', () => {});
    request.end('{"model":"m"}');
    await called.promise;
    request.destroy();
    const reason = await within(aborted.promise, 100, 'abort');
    expect((reason as Error).name).toBe('AbortError');
    expect(clone?.signal.aborted).toBe(true);
    expect(fusion.requests[0]).toBeInstanceOf(Request);
  });

  it('errors the body stream and aborts the signal when the client goes away mid-upload', async () => {
    const readFailed = deferred<unknown>();
    const fusion = fakeFusion(async (request) => {
      await request.text().catch((error: unknown) => readFailed.resolve(error));
      return new Response('unreachable');
    });
    server = await startServer(fusion);
    const request = httpRequest(`${server.url}/v1/chat/completions`, { method: 'POST', agent: false });
    request.on('error', () => {});
    request.write('{"model":');
    await new Promise((resolve) => setTimeout(resolve, 50));
    request.destroy();
    await within(readFailed.promise, 100, 'body error');
    expect(fusion.requests[0]!.signal.aborted).toBe(true);
  });

  it('does not abort the signal of a request that was answered', async () => {
    const fusion = fakeFusion(async (request) => new Response(await request.text()));
    server = await startServer(fusion);
    await rawRequest(server.url, { method: 'POST', body: 'hello' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fusion.requests[0]!.signal.aborted).toBe(false);
  });

  it('answers 500 in OpenAI shape when handle throws, or passes the error to next', async () => {
    const failure = new Error('bug');
    const fusion = fakeFusion(() => {
      throw failure;
    });
    server = await startServer(fusion);
    const response = await rawRequest(server.url);
    expect(response.status).toBe(500);
    expect(JSON.parse(response.body).error).toMatchObject({ type: 'server_error', code: 'internal_error' });

    const handler = createNodeHandler(fusion);
    const nextError = deferred<unknown>();
    const withNext = createServer((request, outgoing) => {
      void handler(request, outgoing, (error) => {
        nextError.resolve(error);
        outgoing.end('from next');
      });
    });
    await new Promise<void>((resolve) => withNext.listen(0, '127.0.0.1', resolve));
    const { port } = withNext.address() as AddressInfo;
    const viaNext = await rawRequest(`http://127.0.0.1:${port}/`);
    expect(viaNext.body).toBe('from next');
    expect(await nextError.promise).toBe(failure);
    await new Promise((resolve) => withNext.close(resolve));
  });

  it('takes a body a framework already parsed (req.body) instead of the consumed stream', async () => {
    const fusion = fakeFusion(
      async (request) => new Response(`${request.headers.get('content-type')}|${await request.text()}`),
    );
    const handler = createNodeHandler(fusion);
    // What express.json() does: read the stream, put the parsed object on req.body.
    const express = createServer(
      (request: IncomingMessage & { body?: unknown }, response: ServerResponse) => {
        let text = '';
        request.on('data', (chunk) => (text += chunk));
        request.on('end', () => {
          request.body = JSON.parse(text);
          void handler(request, response);
        });
      },
    );
    await new Promise<void>((resolve) => express.listen(0, '127.0.0.1', resolve));
    const { port } = express.address() as AddressInfo;
    const response = await rawRequest(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{ "model" : "m" }',
    });
    expect(response.body).toBe('application/json|{"model":"m"}');
    await new Promise((resolve) => express.close(resolve));
  });
});
