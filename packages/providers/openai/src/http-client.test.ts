import http, { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeServer } from './__fixtures__/mock-upstream.js';
import { HttpClient } from './http-client.js';

/** Against a real `node:http` server on port 0: what reaches the upstream, header by header. */
const servers: Server[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map(closeServer));
});

/** A server that records each request's raw headers and answers `{}`. */
async function recordingServer(): Promise<{ port: number; received: string[][] }> {
  const received: string[][] = [];
  const server = createServer((request: IncomingMessage, response) => {
    received.push(request.rawHeaders);
    request.resume();
    request.once('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, received };
}

function client(port: number, headers: Record<string, string>): HttpClient {
  const created = new HttpClient({
    providerId: 'test',
    baseURL: `http://127.0.0.1:${port}/v1`,
    headers,
    maxSockets: 4,
    freeSocketTimeoutMs: 1000,
  });
  clients.push(created);
  return created;
}

/** What node:http itself sends for `headers` given as an object (the way the client sent them before). */
function sendAsObject(port: number, headers: Record<string, string>, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { method: 'POST', hostname: '127.0.0.1', port, path: '/v1/chat/completions', headers },
      (response) => {
        response.resume();
        response.once('end', () => resolve());
      },
    );
    request.once('error', reject);
    request.end(body);
  });
}

describe('HttpClient headers', () => {
  it('sends the same headers, in the same order, as node:http does for them given as an object', async () => {
    const { port, received } = await recordingServer();
    const base = { 'user-agent': '@fusionkit/openai', authorization: 'Bearer k', accept: 'application/json' };
    const body = { model: 'm', messages: [{ role: 'user', content: 'Hi' }] };
    const response = await client(port, base).fetchJson({
      method: 'POST',
      path: '/chat/completions',
      body,
      headers: { 'x-request-id': 'r-1', accept: 'text/event-stream' },
      maxBytes: 1024,
    });
    expect(response.status).toBe(200);
    const text = JSON.stringify(body);
    await sendAsObject(
      port,
      {
        ...base,
        'x-request-id': 'r-1',
        accept: 'text/event-stream',
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(text)),
      },
      text,
    );
    const [sent, expected] = received;
    // Only the connection header differs: the client's agent keeps connections alive.
    const withoutConnection = (raw: string[]) =>
      raw.filter((_, index) => raw[index - (index % 2)]!.toLowerCase() !== 'connection');
    expect(withoutConnection(sent!)).toEqual(withoutConnection(expected!));
    expect(sent).toContain('Host');
    expect(sent![sent!.indexOf('Host') + 1]).toBe(`127.0.0.1:${port}`);
  });

  it('keeps a configured host header instead of adding its own', async () => {
    const { port, received } = await recordingServer();
    await client(port, { host: 'models.example' }).fetchJson({
      method: 'GET',
      path: '/models',
      maxBytes: 1024,
    });
    const raw = received[0]!;
    const hosts = raw.filter((_, index) => index % 2 === 0 && raw[index]!.toLowerCase() === 'host');
    expect(hosts).toHaveLength(1);
    expect(raw[raw.indexOf('host') + 1]).toBe('models.example');
  });

  it('hands node:http its headers as a flat list, not an object it copies header by header', async () => {
    const { port } = await recordingServer();
    const request = vi.spyOn(http, 'request');
    await client(port, { 'user-agent': 'ua' }).fetchJson({
      method: 'POST',
      path: '/chat/completions',
      body: {},
      headers: { 'x-request-id': 'r-2' },
      maxBytes: 1024,
    });
    const options = request.mock.calls[0]![0] as http.RequestOptions;
    expect(options.headers).toEqual([
      'user-agent',
      'ua',
      'x-request-id',
      'r-2',
      'accept',
      'application/json',
      'content-type',
      'application/json',
      'content-length',
      '2',
      'Host',
      `127.0.0.1:${port}`,
    ]);
  });
});
