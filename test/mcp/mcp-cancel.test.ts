import { createFusion, type Fusion } from '@fusionkit/core';
import { createMockProvider } from '@fusionkit/core/test';
import { mcpPlugin } from '@fusionkit/mcp';
import { type NodeServer, serve } from '@fusionkit/node';
import { createOpenAICompatible } from '@fusionkit/openai';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { connectClient, type Era } from './__fixtures__/mcp-stack.js';

const MODEL = 'lab/qwen2.5-0.5b-instruct-4bit';

/**
 * The orchestrator as an MCP server over HTTP, in front of a real upstream on port 0 that never
 * answers a chat: a `chat` tool call only ends when it is cancelled, and the upstream sees whether
 * the cancellation reached it.
 */
describe.each<Era>(['legacy', 'modern'])('cancelling a chat tool call over HTTP (%s protocol)', (era) => {
  let upstream: MockUpstream;
  let fusion: Fusion;
  let server: NodeServer;
  const clients: Client[] = [];

  beforeAll(async () => {
    upstream = await startMockUpstream();
    const lab = createOpenAICompatible({
      id: 'lab',
      baseURL: upstream.baseURL,
      headers: { 'x-mock-behavior': 'hang' },
    });
    const local = createMockProvider({
      id: 'mock',
      models: [{ id: 'slow', reply: 'one two three four', delayMs: 100 }],
    });
    fusion = createFusion({ providers: [lab, local], healthIntervalMs: 0 });
    await fusion.use(mcpPlugin({ fusion }));
    server = await serve(fusion, { port: 0, signals: false, shutdownTimeoutMs: 500 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await server?.close();
    await upstream?.close();
  });

  const connect = async () => {
    const client = await connectClient(`${server.url}/mcp`, era);
    clients.push(client);
    return client;
  };
  const chatsStarted = () => upstream.requests.filter((request) => request.path === '/v1/chat/completions');
  const chatsAborted = () => upstream.aborts.filter((abort) => abort.path === '/v1/chat/completions');

  it.each([
    ['without progress', false],
    ['with progress', true],
  ])('aborts the upstream model call (%s)', async (_, progress) => {
    const client = await connect();
    const started = chatsStarted().length;
    const aborted = chatsAborted().length;
    const controller = new AbortController();
    const call = client.callTool(
      { name: 'chat', arguments: { model: MODEL, prompt: 'never answered' } },
      { signal: controller.signal, timeout: 60_000, ...(progress ? { onprogress: () => {} } : {}) },
    );
    await vi.waitFor(() => expect(chatsStarted().length).toBe(started + 1), { timeout: 10_000 });
    controller.abort();
    await expect(call).rejects.toThrow();
    await vi.waitFor(() => expect(chatsAborted().length).toBe(aborted + 1), { timeout: 10_000 });
  });

  it('cancels only the call of the client that cancelled, though both have the same request id', async () => {
    const cancelling = await connect();
    const other = await connect();
    const aborted = chatsAborted().length;
    const started = chatsStarted().length;
    const controller = new AbortController();
    // Two new clients number their requests alike: both calls carry the same JSON-RPC id.
    const cancelled = cancelling.callTool(
      { name: 'chat', arguments: { model: MODEL, prompt: 'cancel me' } },
      { signal: controller.signal, timeout: 60_000 },
    );
    const kept = other.callTool({ name: 'chat', arguments: { model: 'mock/slow', prompt: 'keep me' } });
    await vi.waitFor(() => expect(chatsStarted().length).toBe(started + 1), { timeout: 10_000 });
    controller.abort();
    await expect(cancelled).rejects.toThrow();
    await vi.waitFor(() => expect(chatsAborted().length).toBe(aborted + 1), { timeout: 10_000 });
    const result = (await kept) as { isError?: boolean; content: { text?: string }[] };
    expect(result.isError).toBeFalsy();
    expect(result.content[0]?.text).toBe('one two three four');
  });
});
