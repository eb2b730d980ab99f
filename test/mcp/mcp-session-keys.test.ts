/**
 * With API keys on, an MCP session belongs to the key that opened it: through `fusion.handle`, a
 * request naming the session with another key gets 404 (-32001) as for an unknown session, and the
 * owner's client keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type McpStack, startMcpStack } from './__fixtures__/mcp-stack.js';

describe('MCP sessions with API keys', () => {
  let stack: McpStack;
  beforeAll(async () => {
    stack = await startMcpStack({ apiKeys: ['key-one', 'key-two'], rag: false, mcp: { sessions: true } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers 404 to a session id used with another key, and serves the key that opened it', async () => {
    const client = await connectClient(stack.endpoint, 'legacy', { authorization: 'Bearer key-one' });
    const sessionId = (client.transport as { sessionId?: string } | undefined)?.sessionId;
    expect(sessionId).toBeTruthy();
    const request = (key: string, method = 'POST') =>
      fetch(stack.endpoint, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sessionId!,
          'mcp-protocol-version': '2025-06-18',
        },
        ...(method === 'POST'
          ? { body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }) }
          : {}),
      });
    for (const method of ['POST', 'GET', 'DELETE']) {
      const stolen = await request('key-two', method);
      expect(stolen.status, method).toBe(404);
      expect(await stolen.json()).toMatchObject({ error: { code: -32001 } });
    }
    const own = await request('key-one');
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('list_models');
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('list_models');
    await client.close();
  });
});
