import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeFusion, within } from './__fixtures__/start-server.js';
import { type NodeServer, serve } from './serve.js';

const LIMIT = Number(process.env.DRAIN_TEST_LIMIT ?? 64 * 1024);
const BODY = Buffer.alloc(10 * 1024 * 1024, 'a');
const TRIES = 10;

let running: NodeServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** An orchestrator that reads the body as the core does, and answers 413 when it passes the limit. */
function readingFusion() {
  return fakeFusion(async (request) => {
    try {
      await request.arrayBuffer();
      return new Response('read it all');
    } catch (error) {
      const { status } = error as { status?: number };
      return Response.json({ error: { code: 'payload_too_large' } }, { status: status ?? 400 });
    }
  });
}

async function start(options: Parameters<typeof serve>[1] = {}) {
  running = await serve(readingFusion(), { port: 0, signals: false, maxBodyBytes: LIMIT, ...options });
  return running;
}

/** Chunks of the body as a stream, so that fetch sends it chunked (no Content-Length). */
function chunkedBody(): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= BODY.length) return controller.close();
      controller.enqueue(BODY.subarray(offset, offset + 256 * 1024));
      offset += 256 * 1024;
    },
  });
}

/**
 * http.request sending the whole body (declared or chunked). Resolves once the answer has been read
 * and the body has all left; rejects on any error (EPIPE, ECONNRESET), even after the answer.
 */
function viaHttpRequest(url: string, declared: boolean): Promise<{ status: number; connection?: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${url}/v1/chat/completions`, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json',
        ...(declared ? { 'content-length': String(BODY.length) } : {}),
      },
    });
    let answer: { status: number; connection?: string } | undefined;
    let sent = false;
    const settle = () => {
      if (answer && sent) resolve(answer);
    };
    outgoing.on('error', reject);
    outgoing.on('finish', () => {
      sent = true;
      settle();
    });
    outgoing.on('response', (response) => {
      response.resume();
      response.on('end', () => {
        answer = { status: response.statusCode ?? 0, connection: response.headers.connection };
        // An error right after the answer still counts: give it a moment to show.
        setTimeout(settle, 20);
      });
    });
    outgoing.end(BODY);
  });
}

/** A raw socket writing the request and its body, then reading until the server closes. */
function viaSocket(port: number, declared: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.on('connect', () => {
      const framing = declared ? `content-length: ${BODY.length}` : 'transfer-encoding: chunked';
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n${framing}\r\n\r\n`,
      );
      if (declared) socket.write(BODY);
      else {
        for (let offset = 0; offset < BODY.length; offset += 256 * 1024) {
          const part = BODY.subarray(offset, offset + 256 * 1024);
          socket.write(`${part.length.toString(16)}\r\n`);
          socket.write(part);
          socket.write('\r\n');
        }
        socket.write('0\r\n\r\n');
      }
    });
  });
}

describe('an answer given before the body has arrived reaches every client (413 for 10 MB)', () => {
  it('fetch, with Content-Length and chunked, every try', async () => {
    const server = await start();
    for (let index = 0; index < TRIES; index++) {
      const declared = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: BODY,
      });
      expect(declared.status).toBe(413);
      expect(declared.headers.get('connection')).toBe('close');
      await declared.arrayBuffer();
      const chunked = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chunkedBody(),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      await chunked.arrayBuffer();
    }
  });

  it('http.request, with Content-Length and chunked, every try', async () => {
    const server = await start();
    for (let index = 0; index < TRIES; index++) {
      expect(await viaHttpRequest(server.url, true)).toEqual({ status: 413, connection: 'close' });
      expect(await viaHttpRequest(server.url, false)).toEqual({ status: 413, connection: 'close' });
    }
  });

  it('a raw socket, with Content-Length and chunked, every try', async () => {
    const server = await start();
    for (let index = 0; index < TRIES; index++) {
      for (const declared of [true, false]) {
        const answer = await viaSocket(server.port, declared);
        expect(answer.slice(0, answer.indexOf('\r\n'))).toBe('HTTP/1.1 413 Payload Too Large');
        expect(answer.toLowerCase()).toContain('connection: close');
      }
    }
  });

  it('answers a declared oversize body at once, then stops waiting for it after the drain limit', async () => {
    const server = await start({ drain: { timeoutMs: 300 } });
    const events: string[] = [];
    const closed = new Promise<void>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        if (chunk.toString().startsWith('HTTP/1.1 413')) events.push('answer');
      });
      socket.on('close', () => {
        events.push('closed');
        resolve();
      });
      // Announce 10 MB and send none of it: the answer must not wait, and the server must not linger.
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${BODY.length}\r\n\r\n`,
      );
    });
    await within(closed, 10_000, 'the server closing the connection');
    expect(events).toEqual(['answer', 'closed']);
  });

  it('reads no more than the drain limit of an endless body', async () => {
    const server = await start({ drain: { maxBytes: 1024 * 1024, timeoutMs: 30_000 } });
    let sent = 0;
    const closed = new Promise<void>((resolve) => {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.on('close', () => resolve());
      socket.write(
        'POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
      );
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const frame = Buffer.concat([
        Buffer.from(`${chunk.length.toString(16)}\r\n`),
        chunk,
        Buffer.from('\r\n'),
      ]);
      const pump = () => {
        while (!socket.destroyed && sent < 1024 * 1024 * 1024) {
          sent += chunk.length;
          if (!socket.write(frame)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    await within(closed, 10_000, 'the server closing the connection');
    // The server stopped reading long before the gigabyte; socket buffers hold a few MB at most.
    expect(sent).toBeLessThan(100 * 1024 * 1024);
  });
});
