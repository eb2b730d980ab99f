import type { KeyvLike } from '@fusionkit/core';
import { McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import type { McpEndpointFactory } from './create-mcp-server.js';
import { type McpSessionRecord, McpSessions } from './mcp-sessions.js';

const URL = 'http://127.0.0.1/mcp';
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function memoryStore(): KeyvLike<McpSessionRecord> {
  const map = new Map<string, McpSessionRecord>();
  return {
    get: async (key) => map.get(key),
    set: async (key, value) => map.set(key, value),
    delete: async (key) => map.delete(key),
  };
}

/** A factory that counts the server instances it builds. */
function countingFactory(): { factory: McpEndpointFactory; built: () => number } {
  let built = 0;
  return {
    factory: () => {
      built++;
      const server = new McpServer({ name: 'test', version: '1.0.0' });
      server.registerTool('hello', { description: 'Says hello' }, async () => ({
        content: [{ type: 'text', text: 'hello' }],
      }));
      return server;
    },
    built: () => built,
  };
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } },
};

/** What `mcpPlugin` passes for a request of an API key: its id as `clientId`. */
const keyOf = (id: string | undefined) =>
  id === undefined ? undefined : { token: '', clientId: id, scopes: [] };

async function open(sessions: McpSessions, owner?: string): Promise<string> {
  const response = await sessions.handle(
    new Request(URL, { method: 'POST', headers: HEADERS, body: JSON.stringify(initialize) }),
    initialize,
    keyOf(owner),
  );
  await response.text();
  const id = response.headers.get('mcp-session-id');
  expect(response.status).toBe(200);
  expect(id).toBeTruthy();
  const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
  await sessions.handle(inSession(id!, 'POST', initialized), initialized, keyOf(owner));
  return id!;
}

let nextId = 2;
/** `tools/list` with an id of its own (concurrent requests of one session must not share one). */
const listTools = () => ({ jsonrpc: '2.0', id: nextId++, method: 'tools/list' });

function inSession(id: string, method: 'POST' | 'GET' | 'DELETE', body?: unknown): Request {
  return new Request(URL, {
    method,
    headers: { ...HEADERS, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' },
    ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
  });
}

async function list(
  sessions: McpSessions,
  id: string,
  owner?: string,
): Promise<{ status: number; text: string }> {
  const body = listTools();
  const response = await sessions.handle(inSession(id, 'POST', body), body, keyOf(owner));
  return { status: response.status, text: await response.text() };
}

describe('McpSessions: a session belongs to the API key that opened it', () => {
  it('answers 404 (-32001) to another key, for POST, GET and DELETE, and keeps serving its own', async () => {
    const sessions = new McpSessions(countingFactory().factory);
    const id = await open(sessions, 'key-a');
    const other = await list(sessions, id, 'key-b');
    expect(other.status).toBe(404);
    expect(JSON.parse(other.text)).toMatchObject({ error: { code: -32001 } });
    expect((await list(sessions, id, undefined)).status).toBe(404);
    for (const method of ['GET', 'DELETE'] as const) {
      const response = await sessions.handle(inSession(id, method), undefined, keyOf('key-b'));
      expect(response.status, method).toBe(404);
      await response.body?.cancel();
    }
    const own = await list(sessions, id, 'key-a');
    expect(own.status).toBe(200);
    expect(own.text).toContain('hello');
    await sessions.close();
  });
});

describe('McpSessions: taking up a session another instance opened', () => {
  it('initializes it once for concurrent requests', async () => {
    const store = memoryStore();
    const first = new McpSessions(countingFactory().factory, { store });
    const id = await open(first, 'key-a');
    const counting = countingFactory();
    const second = new McpSessions(counting.factory, { store });
    const answers = await Promise.all([1, 2, 3].map(() => list(second, id, 'key-a')));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    for (const answer of answers) expect(answer.text).toContain('hello');
    expect(counting.built()).toBe(1);
    expect(second.size).toBe(1);
    await Promise.all([first.close(), second.close()]);
  });

  it('takes it up only for the key that opened it, also when that key waits behind another', async () => {
    const store = memoryStore();
    const first = new McpSessions(countingFactory().factory, { store });
    const id = await open(first, 'key-a');
    const counting = countingFactory();
    const second = new McpSessions(counting.factory, { store });
    const [wrong, right] = await Promise.all([list(second, id, 'key-b'), list(second, id, 'key-a')]);
    expect(wrong.status).toBe(404);
    expect(right.status).toBe(200);
    expect(counting.built()).toBe(1);
    expect((await list(second, id, 'key-b')).status).toBe(404);
    await Promise.all([first.close(), second.close()]);
  });

  it('respects maxSessions: 503 with Retry-After when full', async () => {
    const store = memoryStore();
    const first = new McpSessions(countingFactory().factory, { store });
    const id = await open(first);
    const counting = countingFactory();
    const full = new McpSessions(counting.factory, { store, maxSessions: 1 });
    await open(full);
    expect(counting.built()).toBe(1);
    const body = listTools();
    const response = await full.handle(inSession(id, 'POST', body), body);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(counting.built()).toBe(1);
    await Promise.all([first.close(), full.close()]);
  });
});
