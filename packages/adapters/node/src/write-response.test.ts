import { createServer, request as httpRequest, type IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { EventStreamResponse, jsonResponse } from '@fusionkit/core/internal';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  deferred,
  fakeFusion,
  rawRequest,
  startServer,
  type TestServer,
  within,
} from './__fixtures__/start-server.js';
import { writeResponse } from './write-response.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const encoder = new TextEncoder();
const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' };

/** GET `url` through node:http and resolve with the response once its head is in. */
function open(url: string, method = 'GET'): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, agent: false });
    request.on('error', reject);
    request.on('response', resolve);
    request.end();
  });
}

/** Resolves with the next chunk of `response` as text. */
function nextChunk(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => response.once('data', (chunk: Buffer) => resolve(chunk.toString())));
}

describe('writeResponse', () => {
  it('delivers SSE events as they are produced (the first arrives before the second is sent)', async () => {
    const firstRead = deferred();
    const fusion = fakeFusion(() => {
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode('data: {"n":1}\n\n'));
          // The second event is produced only once the client has the first one.
          await firstRead.promise;
          controller.enqueue(encoder.encode('data: {"n":2}\n\n'));
          controller.enqueue(encoder.encode('data: [DONE]\n\n'));
          controller.close();
        },
      });
      return new Response(body, { headers: sseHeaders });
    });
    server = await startServer(fusion);
    const response = await open(server.url);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['transfer-encoding']).toBe('chunked');
    expect(await nextChunk(response)).toBe('data: {"n":1}\n\n');
    firstRead.resolve();
    let rest = '';
    for await (const chunk of response) rest += chunk;
    expect(rest).toBe('data: {"n":2}\n\ndata: [DONE]\n\n');
  });

  it('flushes SSE headers before the first event exists', async () => {
    const release = deferred();
    const fusion = fakeFusion(() => {
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await release.promise;
          controller.enqueue(encoder.encode('data: late\n\n'));
          controller.close();
        },
      });
      return new Response(body, { headers: sseHeaders });
    });
    server = await startServer(fusion);
    const response = await open(server.url);
    expect(response.statusCode).toBe(200);
    release.resolve();
    expect(await nextChunk(response)).toBe('data: late\n\n');
  });

  it('cancels the body and aborts the signal within 100 ms when the client leaves mid-stream', async () => {
    const cancelled = deferred<unknown>();
    const aborted = deferred();
    const fusion = fakeFusion((request) => {
      request.signal.addEventListener('abort', () => aborted.resolve());
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode('data: {"n":1}\n\n'));
        },
        // Never produces a second event: only cancellation ends this stream.
        pull: () => new Promise(() => {}),
        cancel: (reason) => cancelled.resolve(reason),
      });
      return new Response(body, { headers: sseHeaders });
    });
    server = await startServer(fusion);
    const response = await open(server.url);
    await nextChunk(response);
    response.destroy();
    await within(Promise.all([cancelled.promise, aborted.promise]), 100, 'cancel and abort');
    expect(((await cancelled.promise) as Error).name).toBe('AbortError');
  });

  it('stops pulling the body while the client does not read (backpressure)', async () => {
    const chunk = new Uint8Array(64 * 1024);
    const totalChunks = 4096; // 256 MiB: far more than socket buffers can hold
    let pulls = 0;
    const cancelled = deferred();
    const fusion = fakeFusion(() => {
      const body = new ReadableStream<Uint8Array>(
        {
          pull(controller) {
            pulls += 1;
            if (pulls > totalChunks) controller.close();
            else controller.enqueue(chunk);
          },
          cancel: () => cancelled.resolve(),
        },
        { highWaterMark: 0 },
      );
      return new Response(body, { headers: { 'content-type': 'application/octet-stream' } });
    });
    server = await startServer(fusion);

    // A client that sends a request and never reads the answer.
    const socket = connect(server.port, '127.0.0.1');
    socket.write(`GET /download HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    socket.pause();

    // Wait until the socket buffers are full and pulling has stopped.
    let previous = -1;
    while (pulls !== previous) {
      previous = pulls;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(pulls).toBeGreaterThan(1);
    expect(pulls).toBeLessThan(totalChunks / 4);

    socket.destroy();
    await within(cancelled.promise, 1000, 'cancel');
  });

  it('resumes a paused stream when the client reads again and delivers every byte', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(7);
    const totalChunks = 256; // 16 MiB
    let sent = 0;
    const fusion = fakeFusion(
      () =>
        new Response(
          new ReadableStream<Uint8Array>(
            {
              pull(controller) {
                if (sent === totalChunks) return controller.close();
                sent += 1;
                controller.enqueue(chunk);
              },
            },
            { highWaterMark: 0 },
          ),
        ),
    );
    server = await startServer(fusion);
    const response = await open(server.url);
    response.pause();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sent).toBeLessThan(totalChunks);
    let received = 0;
    for await (const part of response) received += (part as Buffer).length;
    expect(received).toBe(totalChunks * chunk.length);
  });

  it('destroys the connection when the body fails mid-stream, and keeps serving', async () => {
    const fusion = fakeFusion((request) => {
      if (new URL(request.url).pathname === '/ok') return new Response('still up');
      let step = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          step += 1;
          if (step === 1) controller.enqueue(encoder.encode('data: 1\n\n'));
          else controller.error(new Error('upstream broke'));
        },
      });
      return new Response(body, { headers: sseHeaders });
    });
    server = await startServer(fusion);
    const response = await open(server.url);
    const outcome = await new Promise<string>((resolve) => {
      response.on('error', () => resolve('error'));
      response.on('aborted', () => resolve('aborted'));
      response.on('end', () => resolve('end'));
      response.resume();
    });
    expect(outcome).not.toBe('end');
    expect((await rawRequest(`${server.url}/ok`)).body).toBe('still up');
  });

  it('answers 500 when the body fails before its first byte', async () => {
    const fusion = fakeFusion(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull: (controller) => controller.error(new Error('broken')),
          }),
          { headers: { 'x-request-id': 'req-1' } },
        ),
    );
    server = await startServer(fusion);
    const response = await rawRequest(server.url);
    expect(response.status).toBe(500);
    expect(response.headers['x-request-id']).toBe('req-1');
    expect(JSON.parse(response.body).error.code).toBe('internal_error');
  });

  it('sends no body for HEAD, 204 and 304, and cuts the connection for Response.error()', async () => {
    const fusion = fakeFusion((request) => {
      const path = new URL(request.url).pathname;
      if (path === '/204') return new Response(null, { status: 204 });
      if (path === '/304') return new Response(null, { status: 304 });
      if (path === '/error') return Response.error();
      return new Response('body of GET', { headers: { 'content-length': '11' } });
    });
    server = await startServer(fusion);
    const head = await rawRequest(server.url, { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe('11');
    expect((await rawRequest(`${server.url}/204`)).status).toBe(204);
    expect((await rawRequest(`${server.url}/304`)).status).toBe(304);
    await expect(rawRequest(`${server.url}/error`)).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('ignores hop-by-hop headers of the Response but honours connection: close', async () => {
    const fusion = fakeFusion((request) =>
      new URL(request.url).pathname === '/close'
        ? new Response('bye', { headers: { connection: 'close' } })
        : new Response('hi', { headers: { connection: 'keep-alive', 'keep-alive': 'timeout=1' } }),
    );
    server = await startServer(fusion);
    const kept = await rawRequest(server.url, { headers: { connection: 'keep-alive' } });
    expect(kept.headers['keep-alive']).not.toBe('timeout=1');
    expect((await rawRequest(`${server.url}/close`)).headers.connection).toBe('close');
  });

  describe('a core event stream (read from its source, without a Web stream)', () => {
    it('sends the events that are ready together in one write, in order', async () => {
      const events = Array.from({ length: 50 }, (_, index) => `data: {"n":${index}}\n\n`);
      const pending = [...events, 'data: [DONE]\n\n'];
      const source = { read: async () => pending.shift(), cancel: vi.fn() };
      server = await startServer(fakeFusion(() => new EventStreamResponse(source, { headers: sseHeaders })));
      const writes = vi.spyOn(ServerResponse.prototype, 'write');
      const ends = vi.spyOn(ServerResponse.prototype, 'end');
      try {
        const response = await open(server.url);
        let body = '';
        for await (const chunk of response) body += chunk;
        expect(body).toBe(`${events.join('')}data: [DONE]\n\n`);
        // Without batching: one write per event (51).
        expect(writes.mock.calls.length + ends.mock.calls.length).toBeLessThanOrEqual(3);
        expect(source.cancel).not.toHaveBeenCalled();
      } finally {
        writes.mockRestore();
        ends.mockRestore();
      }
    });

    it('writes the first event before it takes the events that are ready with it', async () => {
      const events = Array.from({ length: 20 }, (_, index) => `data: {"n":${index}}\n\n`);
      const ready = events.slice(1);
      const log: string[] = [];
      let reads = 0;
      const source = {
        read: async () => (++reads === 1 ? events[0] : reads === 2 ? 'data: [DONE]\n\n' : undefined),
        readReady: () => {
          const event = ready.shift();
          if (event !== undefined) log.push('take');
          return event;
        },
        cancel: vi.fn(),
      };
      server = await startServer(fakeFusion(() => new EventStreamResponse(source, { headers: sseHeaders })));
      const original = ServerResponse.prototype.write;
      ServerResponse.prototype.write = function (
        this: ServerResponse,
        ...args: Parameters<ServerResponse['write']>
      ) {
        log.push(`write ${String(args[0]).split('\n\n').length - 1}`);
        return original.apply(this, args);
      } as ServerResponse['write'];
      try {
        const response = await open(server.url);
        let body = '';
        for await (const chunk of response) body += chunk;
        expect(body).toBe(`${events.join('')}data: [DONE]\n\n`);
        // The head and the first event leave alone, before the other 19 are taken; those go together.
        expect(log.slice(0, 2)).toEqual(['write 1', 'take']);
        expect(log.filter((entry) => entry === 'take')).toHaveLength(19);
        expect(log.filter((entry) => entry.startsWith('write')).length).toBeLessThanOrEqual(3);
      } finally {
        ServerResponse.prototype.write = original;
      }
    });

    it('takes ready events without a read each, woken by the source, then ends with read()', async () => {
      const bursts = [0, 1, 2].map((burst) =>
        Array.from({ length: 10 }, (_, index) => `data: {"n":${burst * 10 + index}}\n\n`),
      );
      const ready: string[] = [];
      let wake: (() => void) | undefined;
      let reads = 0;
      let sent = 0;
      let doneSent = false;
      // A burst becomes ready a moment after the pump asked to be woken, as upstream packets do.
      const nextBurst = () => {
        setTimeout(() => {
          ready.push(...(bursts[sent++] ?? []));
          const callback = wake;
          wake = undefined;
          callback?.();
        }, 5);
      };
      const source = {
        read: async () => {
          reads += 1;
          if (reads === 1) return 'data: {"first":true}\n\n';
          if (doneSent) return undefined;
          doneSent = true;
          return 'data: [DONE]\n\n';
        },
        readReady: () => ready.shift(),
        whenReady: (callback: () => void) => {
          if (sent >= bursts.length) return false;
          wake = callback;
          nextBurst();
          return true;
        },
        cancel: vi.fn(),
      };
      server = await startServer(fakeFusion(() => new EventStreamResponse(source, { headers: sseHeaders })));
      const response = await open(server.url);
      let body = '';
      for await (const chunk of response) body += chunk;
      expect(body).toBe(`data: {"first":true}\n\n${bursts.flat().join('')}data: [DONE]\n\n`);
      // The first event, [DONE] and the end: the 30 ready events cost no read.
      expect(reads).toBe(3);
      expect(source.cancel).not.toHaveBeenCalled();
    });

    it('delivers each event as it comes when they come apart', async () => {
      const next = deferred();
      const pending = ['data: {"n":1}\n\n', 'data: {"n":2}\n\n'];
      let reads = 0;
      const source = {
        read: async () => {
          reads += 1;
          if (reads === 2) await next.promise;
          return pending.shift();
        },
        cancel: vi.fn(),
      };
      server = await startServer(fakeFusion(() => new EventStreamResponse(source, { headers: sseHeaders })));
      const response = await open(server.url);
      expect(await nextChunk(response)).toBe('data: {"n":1}\n\n');
      next.resolve();
      let rest = '';
      for await (const chunk of response) rest += chunk;
      expect(rest).toBe('data: {"n":2}\n\n');
    });

    it('cancels the source when the client leaves mid-stream', async () => {
      const cancelled = deferred();
      let reads = 0;
      const source = {
        read: () => (++reads === 1 ? Promise.resolve('data: {"n":1}\n\n') : new Promise<undefined>(() => {})),
        cancel: () => cancelled.resolve(),
      };
      server = await startServer(fakeFusion(() => new EventStreamResponse(source, { headers: sseHeaders })));
      const response = await open(server.url);
      await nextChunk(response);
      response.destroy();
      await within(cancelled.promise, 5000, 'cancel');
    });

    it('stops reading the source while the client does not read (backpressure)', async () => {
      const event = `data: ${'x'.repeat(16 * 1024)}\n\n`;
      let reads = 0;
      const cancelled = deferred();
      const source = {
        read: async () => {
          reads += 1;
          // Let the event loop turn now and then, as a live upstream does.
          if (reads % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
          return reads > 16_384 ? undefined : event;
        },
        cancel: () => cancelled.resolve(),
      };
      server = await startServer(fakeFusion(() => new EventStreamResponse(source, { headers: sseHeaders })));
      const socket = connect(server.port, '127.0.0.1');
      socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
      socket.pause();
      let previous = -1;
      while (reads !== previous) {
        previous = reads;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(reads).toBeGreaterThan(1);
      expect(reads).toBeLessThan(16_384 / 4);
      socket.destroy();
      await within(cancelled.promise, 5000, 'cancel');
    });

    it('still offers an ordinary body to anyone who reads it', async () => {
      const pending = ['data: {"n":1}\n\n', 'data: [DONE]\n\n'];
      const response = new EventStreamResponse(
        { read: async () => pending.shift(), cancel: () => {} },
        {
          headers: sseHeaders,
        },
      );
      expect(await response.text()).toBe('data: {"n":1}\n\ndata: [DONE]\n\n');
    });
  });

  it('writes a core JSON answer before it returns, without a promise or async frame per answer', async () => {
    const returned: Promise<void>[] = [];
    const endedOnReturn: boolean[] = [];
    const plain = createServer((_request, response) => {
      returned.push(writeResponse(jsonResponse({ ok: returned.length }, 200, 'req-1'), response));
      endedOnReturn.push(response.writableEnded);
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/`;
      for (const expected of ['{"ok":0}', '{"ok":1}']) {
        const response = await open(url);
        let text = '';
        for await (const chunk of response) text += chunk;
        expect(text).toBe(expected);
        expect(response.headers['content-length']).toBe(String(expected.length));
        expect(response.headers['x-request-id']).toBe('req-1');
      }
    } finally {
      plain.closeAllConnections();
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
    expect(endedOnReturn).toEqual([true, true]);
    // One settled promise shared by every answer written at once.
    expect(returned[0]).toBe(returned[1]);
    await expect(returned[0]).resolves.toBeUndefined();
  });

  it('rejects, as before, when writing a core JSON answer throws', async () => {
    const outgoing = {
      destroyed: false,
      req: { method: 'GET' },
      writeHead() {
        throw new TypeError('Invalid character in header content');
      },
    } as unknown as ServerResponse;
    await expect(writeResponse(jsonResponse({}, 200, 'req-2'), outgoing)).rejects.toThrow(TypeError);
  });
});
