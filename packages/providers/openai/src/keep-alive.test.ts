import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type ChatRequest, UnavailableError } from '@fusionkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { callOptions, closeServer, collect, readFixture, sleep } from './__fixtures__/mock-upstream.js';
import { createOpenAICompatible, type OpenAICompatibleProvider } from './create-openai-compatible.js';

/**
 * Against a real `node:http` server on port 0 (msw replaces the agent, so pooling and socket
 * release can only be seen on real sockets).
 */
type Handler = (request: IncomingMessage, response: ServerResponse, requestOnSocket: number) => void;

interface RealUpstream {
  provider: OpenAICompatibleProvider;
  sockets: Set<Socket>;
  connections: () => number;
}

const servers: Server[] = [];
const providers: OpenAICompatibleProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.close()));
  await Promise.all(servers.splice(0).map(closeServer));
});

async function realUpstream(
  handler: Handler,
  options: { freeSocketTimeoutMs?: number } = {},
): Promise<RealUpstream> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const requestsPerSocket = new WeakMap<Socket, number>();
  const server = createServer((request, response) => {
    const count = (requestsPerSocket.get(request.socket) ?? 0) + 1;
    requestsPerSocket.set(request.socket, count);
    request.resume();
    request.once('end', () => handler(request, response, count));
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const provider = createOpenAICompatible({ id: 'real', baseURL: `http://127.0.0.1:${port}/v1`, ...options });
  providers.push(provider);
  return { provider, sockets, connections: () => connections };
}

const request: ChatRequest = {
  model: 'qwen2.5-0.5b-instruct-4bit',
  messages: [{ role: 'user', content: 'Hi' }],
};
const chatBody = readFixture('upstream-chat.json');
const streamBody = readFixture('upstream-chat.chunks.txt');

function answerJson(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'application/json' }).end(chatBody);
}

function answerStream(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const event of streamBody.split(/(?<=\n\n)/)) response.write(event);
  response.end();
}

describe('keep-alive transport (real sockets)', () => {
  it('reuses one connection for sequential calls and streams', async () => {
    const upstream = await realUpstream((incoming, response) =>
      incoming.headers.accept === 'text/event-stream' ? answerStream(response) : answerJson(response),
    );
    for (let index = 0; index < 5; index++) await upstream.provider.doChat(request, callOptions());
    for (let index = 0; index < 3; index++) {
      const chunks = await collect(upstream.provider.doStream(request, callOptions()));
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    }
    expect(upstream.connections()).toBe(1);
  });

  it('keeps at most maxSockets connections', async () => {
    const upstream = await realUpstream((_incoming, response) => setTimeout(() => answerJson(response), 20));
    const provider = createOpenAICompatible({
      id: 'real',
      baseURL: upstream.provider.baseURL,
      maxSockets: 2,
    });
    providers.push(provider);
    await Promise.all(Array.from({ length: 6 }, () => provider.doChat(request, callOptions())));
    expect(upstream.connections()).toBe(2);
  });

  it('opens as many connections as calls by default: no waiting line hides in the pool', async () => {
    const held: ServerResponse[] = [];
    let release: () => void = () => {};
    const allArrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    const calls = 100; // beyond the 64 sockets the pool used to cap at
    const upstream = await realUpstream((_incoming, response) => {
      held.push(response);
      if (held.length === calls) release();
    });
    const answers = Array.from({ length: calls }, () => upstream.provider.doChat(request, callOptions()));
    // Every call reaches the server before any is answered.
    await allArrived;
    expect(upstream.sockets.size).toBe(calls);
    for (const response of held) answerJson(response);
    await Promise.all(answers);
  });

  it('closes the connection of a stream the caller aborts, and the server sees it', async () => {
    let serverSawClose: Promise<void> | undefined;
    const upstream = await realUpstream((_incoming, response) => {
      serverSawClose = new Promise((resolve) => response.once('close', () => resolve()));
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(
        streamBody
          .split(/(?<=\n\n)/)
          .slice(0, 2)
          .join(''),
      );
    });
    const controller = new AbortController();
    const iterator = upstream.provider
      .doStream(request, callOptions({ signal: controller.signal }))
      [Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ name: 'AbortedError' });
    await serverSawClose;
    await expect.poll(() => upstream.sockets.size).toBe(0);
  });

  it('maps a connection reset mid-stream to a retryable UnavailableError', async () => {
    const upstream = await realUpstream((_incoming, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(
        streamBody
          .split(/(?<=\n\n)/)
          .slice(0, 2)
          .join(''),
      );
      setTimeout(() => response.socket?.destroy(), 10);
    });
    const error = await collect(upstream.provider.doStream(request, callOptions())).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ isRetryable: true });
  });

  it('resends once on a fresh connection when a pooled one was closed by the server', async () => {
    const upstream = await realUpstream((_incoming, response, requestOnSocket) => {
      if (requestOnSocket === 2) response.socket?.destroy();
      else answerJson(response);
    });
    await upstream.provider.doChat(request, callOptions());
    const result = await upstream.provider.doChat(request, callOptions());
    expect(result.choices[0]?.message.content).toBe('Paris is the capital of France.');
    expect(upstream.connections()).toBe(2);
  });

  it('closes idle pooled connections after freeSocketTimeoutMs, and all of them on close()', async () => {
    const upstream = await realUpstream((_incoming, response) => answerJson(response), {
      freeSocketTimeoutMs: 50,
    });
    await upstream.provider.doChat(request, callOptions());
    expect(upstream.sockets.size).toBe(1);
    await sleep(150);
    expect(upstream.sockets.size).toBe(0);

    await upstream.provider.doChat(request, callOptions());
    expect(upstream.sockets.size).toBe(1);
    await upstream.provider.close();
    await expect.poll(() => upstream.sockets.size).toBe(0);
  });
});
