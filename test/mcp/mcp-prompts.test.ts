/**
 * Prompts, completions, logging, subscriptions and sessions of the orchestrator's MCP server, with
 * the SDK client: a 2025 client in a session, a stateless 2025 client, and a 2026-07-28 client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type McpStack, startMcpStack } from './__fixtures__/mcp-stack.js';

describe('the MCP server with sessions', () => {
  let stack: McpStack;
  beforeAll(async () => {
    stack = await startMcpStack({ mcp: { sessions: true } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('offers ask and rag_context as prompts, and completes model and collection names', async () => {
    const client = await connectClient(stack.endpoint, 'legacy');
    try {
      const names = (await client.listPrompts()).prompts.map((prompt) => prompt.name);
      expect(names).toEqual(expect.arrayContaining(['ask', 'rag_context']));
      const models = await client.complete({
        ref: { type: 'ref/prompt', name: 'ask' },
        argument: { name: 'model', value: 'mock/ec' },
      });
      expect(models.completion.values).toEqual(['mock/echo']);
      const collections = await client.complete({
        ref: { type: 'ref/prompt', name: 'rag_context' },
        argument: { name: 'collection', value: 'd' },
      });
      expect(collections.completion.values).toEqual(['docs']);
      const asked = await client.getPrompt({
        name: 'ask',
        arguments: { model: 'mock/echo', question: 'hello' },
      });
      expect(asked.messages.map((message) => message.role)).toEqual(['user', 'assistant']);
      expect(asked.messages[1]?.content).toMatchObject({ type: 'text', text: 'You said: hello' });
      const context = await client.getPrompt({
        name: 'rag_context',
        arguments: { collection: 'docs', question: 'voting' },
      });
      expect(context.messages[0]?.content).toMatchObject({ type: 'resource' });
      expect(context.messages.at(-1)?.content).toMatchObject({ type: 'text' });
      await expect(
        client.getPrompt({ name: 'ask', arguments: { model: 'nope/none', question: 'x' } }),
      ).rejects.toThrow(/Unknown model/);
    } finally {
      await client.close();
    }
  });

  it('gives a 2025 client a session: logging at its level, subscriptions, capabilities that can be delivered', async () => {
    const client = await connectClient(stack.endpoint, 'legacy');
    try {
      const capabilities = client.getServerCapabilities();
      expect(capabilities?.logging).toBeDefined();
      expect(capabilities?.resources?.subscribe).toBe(true);
      expect(capabilities?.tools?.listChanged).toBe(true);
      const logs: unknown[] = [];
      client.setNotificationHandler('notifications/message', (notification) => {
        logs.push(notification.params.data);
      });
      await client.setLoggingLevel('info');
      await client.callTool({ name: 'chat', arguments: { model: 'mock/echo', prompt: 'hi' } });
      await expect.poll(() => logs.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(logs).toContainEqual(expect.objectContaining({ event: 'chat:end', model: 'mock/echo' }));
      expect(logs).not.toContainEqual(expect.objectContaining({ event: 'chat:start' }));
      await client.subscribeResource({ uri: 'fusion://models' });
      await client.unsubscribeResource({ uri: 'fusion://models' });
    } finally {
      await client.close();
    }
  });

  it('answers 404 to a session it does not know, and ends a session on DELETE', async () => {
    const unknown = await fetch(stack.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': 'no-such-session',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 } });
    const client = await connectClient(stack.endpoint, 'legacy');
    const transport = client.transport as unknown as {
      sessionId?: string;
      terminateSession(): Promise<void>;
    };
    const sessionId = transport.sessionId;
    expect(sessionId).toBeTruthy();
    await transport.terminateSession();
    await client.close();
    const after = await fetch(stack.endpoint, {
      method: 'GET',
      headers: {
        accept: 'text/event-stream',
        'mcp-session-id': sessionId!,
        'mcp-protocol-version': '2025-11-25',
      },
    });
    expect(after.status).toBe(404);
  });
});

describe('the MCP server without sessions (the default)', () => {
  let stack: McpStack;
  beforeAll(async () => {
    stack = await startMcpStack({ rag: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('declares no listChanged, logging or subscribe to a stateless 2025 client', async () => {
    const client = await connectClient(stack.endpoint, 'legacy');
    try {
      const capabilities = client.getServerCapabilities();
      expect(capabilities?.logging).toBeUndefined();
      expect(capabilities?.tools?.listChanged).toBe(false);
      expect(capabilities?.resources?.subscribe).toBeUndefined();
      expect((await client.listPrompts()).prompts.map((prompt) => prompt.name)).toContain('ask');
    } finally {
      await client.close();
    }
  });
});
