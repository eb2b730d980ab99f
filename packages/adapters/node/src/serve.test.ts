import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, Server } from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { deferred, fakeFusion, rawRequest, within } from './__fixtures__/start-server.js';
import { type NodeServer, serve } from './serve.js';

const encoder = new TextEncoder();
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

let running: NodeServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** An SSE stream whose events the test releases one by one. */
function controlledStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const cancelled = deferred<unknown>();
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: (reason) => cancelled.resolve(reason),
  });
  return {
    response: new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
    send: (data: string) => controller.enqueue(encoder.encode(`data: ${data}\n\n`)),
    end: () => controller.close(),
    cancelled: cancelled.promise,
  };
}

function open(url: string, headers?: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { agent: false, headers });
    request.on('error', reject);
    request.on('response', resolve);
    request.end();
  });
}

function nextChunk(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => response.once('data', (chunk: Buffer) => resolve(chunk.toString())));
}

function readRest(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    response.on('data', (chunk: Buffer) => (text += chunk));
    response.on('end', () => resolve(text));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('aborted')));
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('serve', () => {
  it('listens on a free port, reports it and serves handle', async () => {
    const listened = deferred<{ url: string; port: number; host: string }>();
    running = await serve(
      fakeFusion(() => new Response('hello')),
      { port: 0, signals: false, onListen: listened.resolve },
    );
    expect(running.port).toBeGreaterThan(0);
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
    expect(await listened.promise).toEqual({ url: running.url, port: running.port, host: '127.0.0.1' });
    expect((await rawRequest(running.url)).body).toBe('hello');
    expect(running.server.requestTimeout).toBe(300_000);
    expect(running.server.keepAliveTimeout).toBe(65_000);
  });

  it('asks the kernel for a listen backlog of 4096 by default, or the one given', async () => {
    const listen = vi.spyOn(Server.prototype, 'listen');
    try {
      running = await serve(
        fakeFusion(() => new Response('')),
        { port: 0, signals: false },
      );
      expect(listen.mock.calls.at(-1)?.[0]).toMatchObject({ port: 0, host: '127.0.0.1', backlog: 4096 });
      await running.close();
      running = await serve(
        fakeFusion(() => new Response('')),
        { port: 0, signals: false, backlog: 64 },
      );
      expect(listen.mock.calls.at(-1)?.[0]).toMatchObject({ backlog: 64 });
    } finally {
      listen.mockRestore();
    }
  });

  it('rejects when the port is taken', async () => {
    running = await serve(
      fakeFusion(() => new Response('')),
      { port: 0, signals: false },
    );
    await expect(
      serve(
        fakeFusion(() => new Response('')),
        { port: running.port, signals: false },
      ),
    ).rejects.toThrow(/EADDRINUSE/);
  });

  it('close() lets an in-flight stream finish while still answering new requests, then stops listening', async () => {
    const stream = controlledStream();
    let closeOptions: unknown;
    const fusion = fakeFusion(
      () => (closeOptions ? new Response('closing', { status: 503 }) : stream.response),
      {
        close: async (options) => {
          closeOptions = options;
        },
      },
    );
    const server = await serve(fusion, { port: 0, signals: false, shutdownTimeoutMs: 5_000 });
    const response = await open(`${server.url}/v1/chat/completions`);
    stream.send('1');
    expect(await nextChunk(response)).toBe('data: 1\n\n');

    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    expect(server.close()).toBe(server.close());
    await new Promise((resolve) => setTimeout(resolve, 50));
    // During the drain a new request is answered (by `handle`), on a connection that then closes.
    const during = await rawRequest(server.url, { headers: { connection: 'keep-alive' } });
    expect(during.status).toBe(503);
    expect(during.headers.connection).toBe('close');
    expect(closeOptions).toEqual({ timeoutMs: 5_000 });
    expect(closed).toBe(false);

    const rest = readRest(response);
    stream.send('2');
    stream.end();
    expect(await rest).toBe('data: 2\n\n');
    await within(closing, 1_000, 'close after the stream ended');
    expect(await refused(server.port)).toBe(true);
  });

  it('answers requests on open keep-alive connections with connection: close while shutting down', async () => {
    const release = deferred();
    const fusion = fakeFusion(async () => {
      await release.promise;
      return new Response('done');
    });
    const server = await serve(fusion, { port: 0, signals: false });
    const pending = rawRequest(server.url, { headers: { connection: 'keep-alive' } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const closing = server.close();
    release.resolve();
    const response = await pending;
    expect(response.body).toBe('done');
    expect(response.headers.connection).toBe('close');
    await closing;
  });

  it('cuts what is still running when shutdownTimeoutMs runs out', async () => {
    const stream = controlledStream();
    const aborted = deferred();
    const fusion = fakeFusion((request) => {
      request.signal.addEventListener('abort', () => aborted.resolve());
      return stream.response;
    });
    const server = await serve(fusion, { port: 0, signals: false, shutdownTimeoutMs: 200 });
    const response = await open(server.url);
    stream.send('1');
    await nextChunk(response);
    const rest = readRest(response);
    await within(server.close(), 1_000, 'close at the deadline');
    await expect(rest).rejects.toThrow();
    await within(Promise.all([aborted.promise, stream.cancelled]), 100, 'abort and cancel');
  });

  it('refuses an Expect: 100-continue body over the limit before it is sent', async () => {
    const fusion = fakeFusion(() => new Response('unreachable'));
    running = await serve(fusion, { port: 0, signals: false, maxBodyBytes: 1000 });
    const outcome = await new Promise<{ continued: boolean; status: number }>((resolve, reject) => {
      let continued = false;
      const request = httpRequest(running!.url, {
        method: 'POST',
        agent: false,
        headers: { expect: '100-continue', 'content-length': '5000' },
      });
      request.on('continue', () => {
        continued = true;
      });
      request.on('error', reject);
      request.on('response', (response) => {
        response.resume();
        resolve({ continued, status: response.statusCode! });
      });
      request.flushHeaders();
    });
    expect(outcome).toEqual({ continued: false, status: 413 });
    expect(fusion.requests).toHaveLength(0);
  });

  it('accepts an Expect: 100-continue body under the limit', async () => {
    const fusion = fakeFusion(async (request) => new Response(await request.text()));
    running = await serve(fusion, { port: 0, signals: false, maxBodyBytes: 1000 });
    const body = await new Promise<string>((resolve, reject) => {
      const request = httpRequest(running!.url, {
        method: 'POST',
        agent: false,
        headers: { expect: '100-continue', 'content-length': '5' },
      });
      request.on('continue', () => request.end('hello'));
      request.on('error', reject);
      request.on('response', (response) => readRest(response).then(resolve, reject));
      request.flushHeaders();
    });
    expect(body).toBe('hello');
  });
});

describe('serve in a process that gets SIGTERM', () => {
  beforeAll(() => {
    // The fixture imports the built package (`npm test` builds first); build it when missing.
    if (existsSync(join(packageDir, 'dist/index.js'))) return;
    const tsup = join(packageDir, '../../../node_modules/.bin/tsup');
    const result = spawnSync(tsup, [], { cwd: packageDir, stdio: 'ignore' });
    if (result.status !== 0) throw new Error('building @fusionkit/node failed');
  }, 60_000);

  function start(env: Record<string, string> = {}) {
    const child = spawn(process.execPath, [join(packageDir, 'src/__fixtures__/serve-fixture.mjs')], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    const messages: Record<string, unknown>[] = [];
    const waiters: (() => void)[] = [];
    lines.on('line', (line) => {
      messages.push(JSON.parse(line));
      for (const wake of waiters.splice(0)) wake();
    });
    const message = async (key: string): Promise<Record<string, unknown>> => {
      for (;;) {
        const found = messages.find((entry) => key in entry);
        if (found) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, message, exited };
  }

  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  it('finishes the in-flight stream, answers new requests 503 meanwhile, then exits with 0', async () => {
    const started = start({ EVENT_COUNT: '10', EVENT_INTERVAL_MS: '50' });
    child = started.child;
    const { url } = (await started.message('url')) as { url: string };
    const response = await open(`${url}/stream`);
    expect(await nextChunk(response)).toBe('data: 1\n\n');
    const rest = readRest(response);

    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const during = await open(`${url}/stream`);
    expect(during.statusCode).toBe(503);
    expect(during.headers.connection).toBe('close');
    during.resume();

    const text = await rest;
    expect(text.trim().split('\n\n').at(-2)).toBe('data: 10');
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(await started.exited).toBe(0);
    expect(await started.message('exit')).toEqual({ exit: 0, closeOptions: { timeoutMs: 5000 } });
  });

  it('cuts the streams still running at the deadline and exits with 1', async () => {
    const started = start({ EVENT_COUNT: '1000', EVENT_INTERVAL_MS: '50', SHUTDOWN_TIMEOUT_MS: '300' });
    child = started.child;
    const { url } = (await started.message('url')) as { url: string };
    const response = await open(`${url}/stream`);
    await nextChunk(response);
    const rest = readRest(response);
    child.kill('SIGTERM');
    await expect(rest).rejects.toThrow();
    expect(await started.exited).toBe(1);
  });

  it('exits with 1 on a second signal', async () => {
    const started = start({ EVENT_COUNT: '1000', EVENT_INTERVAL_MS: '50' });
    child = started.child;
    const { url } = (await started.message('url')) as { url: string };
    const response = await open(`${url}/stream`);
    await nextChunk(response);
    response.on('error', () => {});
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGINT');
    expect(await started.exited).toBe(1);
  });
});

describe('serve: slow clients', () => {
  it('cuts a connection that sends its headers byte by byte too slowly (slowloris), and keeps serving', async () => {
    running = await serve(
      fakeFusion(() => new Response('ok')),
      { port: 0, signals: false, headersTimeoutMs: 500 },
    );
    const head = `GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ${'a'.repeat(10_000)}\r\n\r\n`;
    let sent = 0;
    const outcome = new Promise<{ answer: string; sent: number }>((resolve) => {
      const socket = connect(running!.port, '127.0.0.1');
      let answer = '';
      // One byte every 20 ms: the whole head would take 200 s.
      const timer = setInterval(() => {
        if (!socket.destroyed && sent < head.length) socket.write(head[sent++]!);
      }, 20);
      socket.on('data', (chunk) => (answer += chunk));
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ answer, sent });
      });
    });
    // Generous: the timeout is 500 ms, checked every 125 ms; a busy machine may be slow.
    const { answer, sent: bytes } = await within(outcome, 15_000, 'the slow connection being cut');
    expect(bytes).toBeLessThan(head.length);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect((await rawRequest(`${running.url}/health`)).body).toBe('ok');
  });

  it('has header and request timeouts by default, not Node’s 60 s checked every 30 s', async () => {
    running = await serve(
      fakeFusion(() => new Response('ok')),
      { port: 0, signals: false },
    );
    expect(running.server.headersTimeout).toBe(30_000);
    expect(running.server.requestTimeout).toBe(300_000);
    expect(running.server.keepAliveTimeout).toBe(65_000);
  });
});
