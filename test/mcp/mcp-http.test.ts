import type { McpSessionRecord } from '@fusionkit/mcp';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Adapter,
  connectClient,
  type Era,
  type McpStack,
  startMcpStack,
} from './__fixtures__/mcp-stack.js';

const TOOLS = ['chat', 'fuse', 'job_status', 'list_models', 'rag_ingest', 'rag_search'];

interface Structured {
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  content?: { type: string; text?: string }[];
}

/** A raw 2025-era `tools/call` of a slow chat, its SSE stream closed once the first progress arrives. */
async function closeStreamAfterFirstProgress(endpoint: string): Promise<void> {
  const controller = new AbortController();
  const response = await fetch(endpoint, {
    method: 'POST',
    signal: controller.signal,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: {
        name: 'chat',
        arguments: { model: 'mock/slow', prompt: 'slowly' },
        _meta: { progressToken: 'p' },
      },
    }),
  });
  expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = response.body!.getReader();
  let text = '';
  while (!text.includes('notifications/progress')) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before any progress: ${text}`);
    text += new TextDecoder().decode(value);
  }
  controller.abort();
  await reader.cancel().catch(() => {});
}

function textOf(result: Structured): string {
  return (result.content ?? []).map((block) => block.text ?? '').join('');
}

describe.each<[Adapter, Era]>([
  ['node', 'modern'],
  ['node', 'legacy'],
  ['express', 'modern'],
  ['express', 'legacy'],
])('the MCP server over Streamable HTTP (%s adapter, %s protocol)', (adapter, era) => {
  let stack: McpStack;
  let client: Client;

  beforeAll(async () => {
    stack = await startMcpStack({ adapter });
    client = await connectClient(stack.endpoint, era);
  });
  afterAll(async () => {
    await client?.close();
    await stack?.close();
  });

  it('negotiates the protocol and lists the tools with schemas and truthful annotations', async () => {
    expect(client.getProtocolEra()).toBe(era);
    if (era === 'modern') {
      const discovered = await client.discover();
      expect(JSON.stringify(discovered)).toContain('"tools"');
    }
    expect(client.getServerVersion()?.name).toBe('fusion');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.annotations).toBeDefined();
    }
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool.annotations]));
    expect(byName.chat).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: false });
    expect(byName.list_models).toMatchObject({ readOnlyHint: true, idempotentHint: true });
    expect(byName.rag_ingest).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      openWorldHint: true,
    });
    expect(byName.rag_search).toMatchObject({ readOnlyHint: true });
  });

  it('chat answers with any model, with structured content', async () => {
    const result = (await client.callTool({
      name: 'chat',
      arguments: { model: 'mock/second', prompt: 'Hello?' },
    })) as Structured;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      model: 'mock/second',
      content: 'The second opinion.',
      finish_reason: 'stop',
    });
    expect(textOf(result)).toBe('The second opinion.');
  });

  it('chat reports progress per batch of streamed chunks', async () => {
    const progress: { progress: number; message?: string }[] = [];
    const result = (await client.callTool(
      { name: 'chat', arguments: { model: 'mock/paced', prompt: 'say marker-progress' } },
      { onprogress: (update) => progress.push(update) },
    )) as Structured;
    const content = String(result.structuredContent?.content);
    expect(content).toBe(Array(12).fill('marker-progress').join(' '));
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.map((update) => update.progress)).toEqual(
      [...progress.map((update) => update.progress)].sort((left, right) => left - right),
    );
    // Each report carries the text since the one before (the last may arrive with the result and be
    // dropped by the SDK client, which handles notifications a microtask after responses).
    expect(content.startsWith(progress.map((update) => update.message).join(''))).toBe(true);
  });

  it('fuse combines targets with an inline strategy', async () => {
    const result = (await client.callTool({
      name: 'fuse',
      arguments: { targets: ['mock/second', 'mock/echo'], strategy: 'fallback', prompt: 'Which?' },
    })) as Structured;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ content: 'The second opinion.', strategy: 'fallback' });
    expect(result.structuredContent?.trace_id).toEqual(expect.any(String));
    expect(result.structuredContent?.calls).toEqual([
      expect.objectContaining({ target: 'mock/second', outcome: 'ok' }),
    ]);
  });

  it('list_models lists models and filters by type', async () => {
    const all = (await client.callTool({ name: 'list_models', arguments: {} })) as Structured;
    const ids = ((all.structuredContent?.models ?? []) as { id: string }[]).map((model) => model.id);
    expect(ids).toEqual(expect.arrayContaining(['mock/echo', 'mock/second', 'mock/slow', 'mock/embed']));
    const embeddings = (await client.callTool({
      name: 'list_models',
      arguments: { type: 'embeddings' },
    })) as Structured;
    expect(embeddings.structuredContent?.models).toEqual([expect.objectContaining({ id: 'mock/embed' })]);
  });

  it('rag_ingest adds text and confined files; rag_search finds them', async () => {
    const ingested = (await client.callTool({
      name: 'rag_ingest',
      arguments: {
        collection: 'docs',
        sources: [
          { text: `Hedging sends a second request after a delay (${era}).`, id: `hedge-${era}` },
          { path: 'guide.md' },
        ],
      },
    })) as Structured;
    expect(ingested.isError).toBeFalsy();
    expect(ingested.structuredContent).toMatchObject({ documents: 2 });
    const found = (await client.callTool({
      name: 'rag_search',
      arguments: { collection: 'docs', query: 'install npm', k: 3 },
    })) as Structured;
    const results = found.structuredContent?.results as { text: string; uri?: string }[];
    expect(results[0]?.text).toContain('npm install');
    // Relative to its root: a client never sees the server's absolute paths.
    expect(results[0]?.uri).toMatch(/^file:[^/].*guide\.md$/);
  });

  it('rag_ingest follows the store’s path and URL rules', async () => {
    for (const source of [
      { path: '../../etc/passwd' },
      { path: '/etc/passwd' },
      { url: 'http://127.0.0.1:1/secret' },
    ]) {
      const refused = (await client.callTool({
        name: 'rag_ingest',
        arguments: { collection: 'docs', sources: [source] },
      })) as Structured;
      expect(refused.isError, JSON.stringify(source)).toBe(true);
    }
  });

  it('job_status reads jobs of the runner', async () => {
    const job = stack.jobs!.create({
      kind: 'rag.ingest',
      run: async ({ progress }) => {
        progress({ done: 1, total: 1 });
        return 'ok';
      },
    });
    await stack.jobs!.wait(job.id);
    const result = (await client.callTool({
      name: 'job_status',
      arguments: { job_id: job.id },
    })) as Structured;
    expect(result.structuredContent).toMatchObject({ id: job.id, status: 'succeeded', result: 'ok' });
    const missing = (await client.callTool({
      name: 'job_status',
      arguments: { job_id: 'job_nope' },
    })) as Structured;
    expect(missing.isError).toBe(true);
  });

  it('serves models, collections and documents as resources', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((resource) => resource.uri);
    expect(uris).toEqual(
      expect.arrayContaining([
        'fusion://models',
        'fusion://rag/collections',
        'fusion://rag/collections/docs',
        'fusion://rag/collections/docs/documents/intro',
      ]),
    );
    const models = await client.readResource({ uri: 'fusion://models' });
    expect(JSON.parse((models.contents[0] as { text: string }).text).models.length).toBeGreaterThanOrEqual(4);
    const document = await client.readResource({ uri: 'fusion://rag/collections/docs/documents/intro' });
    expect(JSON.parse((document.contents[0] as { text: string }).text)).toMatchObject({
      id: 'intro',
      chunks: [expect.objectContaining({ text: 'Fusion combines several models by voting.' })],
    });
    await expect(
      client.readResource({ uri: 'fusion://rag/collections/docs/documents/missing' }),
    ).rejects.toThrow();
  });

  it('answers invalid arguments with a tool error, not a protocol error', async () => {
    const wrongType = (await client.callTool({
      name: 'chat',
      arguments: { model: 42, prompt: 'x' },
    })) as Structured;
    expect(wrongType.isError).toBe(true);
    expect(textOf(wrongType)).toMatch(/model/);
    const noTurn = (await client.callTool({ name: 'chat', arguments: { model: 'mock/echo' } })) as Structured;
    expect(noTurn.isError).toBe(true);
    const badStrategy = (await client.callTool({
      name: 'fuse',
      arguments: { targets: ['mock/echo'], strategy: 'telepathy', prompt: 'x' },
    })) as Structured;
    expect(badStrategy.isError).toBe(true);
    const unknownModel = (await client.callTool({
      name: 'chat',
      arguments: { model: 'nope/none', prompt: 'x' },
    })) as Structured;
    expect(unknownModel.isError).toBe(true);
    expect(textOf(unknownModel)).toMatch(/nope\/none/);
  });

  it('closing the request stream aborts the model call', async () => {
    const before = stack.provider.aborted.length;
    if (era === 'modern') {
      // The 2026-07-28 client closes the call's request stream when its signal aborts.
      const controller = new AbortController();
      const call = client.callTool(
        { name: 'chat', arguments: { model: 'mock/slow', prompt: 'take your time' } },
        { signal: controller.signal, onprogress: () => controller.abort() },
      );
      await expect(call).rejects.toThrow();
    } else {
      // A 2025-era client that closes its request stream (its `notifications/cancelled` is tested
      // in mcp-cancel.test.ts).
      await closeStreamAfterFirstProgress(stack.endpoint);
    }
    await vi.waitFor(() => expect(stack.provider.aborted.length).toBeGreaterThan(before), { timeout: 5000 });
  });
});

describe('the MCP endpoint’s HTTP checks', () => {
  let stack: McpStack;
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(stack.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    stack = await startMcpStack({ rag: false, mcp: { maxBodyBytes: 64 * 1024 } });
  });
  afterAll(() => stack?.close());

  it('answers a plain initialize', async () => {
    const response = await post(initialize);
    expect(response.status).toBe(200);
  });

  it('refuses a foreign Origin and a foreign Host with 403 (the orchestrator’s guard, as on every route)', async () => {
    const origin = await post(initialize, { origin: 'https://evil.example' });
    expect(origin.status).toBe(403);
    expect(await origin.json()).toMatchObject({
      error: {
        code: 'origin_not_allowed',
        type: 'permission_error',
        message: expect.stringMatching(/origin/),
      },
    });
    // Another local site is another origin; the server's own passes.
    expect((await post(initialize, { origin: 'http://localhost:3000' })).status).toBe(403);
    expect((await post(initialize, { origin: new URL(stack.endpoint).origin })).status).toBe(200);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = request(
        stack.endpoint,
        {
          method: 'POST',
          headers: {
            host: 'attacker.example',
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(JSON.stringify(initialize));
    });
    expect(status).toBe(403);
  });

  it('refuses a body over the limit with 413', async () => {
    const huge = { ...initialize, params: { ...initialize.params, padding: 'x'.repeat(200 * 1024) } };
    expect((await post(huge)).status).toBe(413);
  });

  it('answers a protocol-version header it does not speak with 400', async () => {
    const response = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
      { 'mcp-protocol-version': '1999-01-01' },
    );
    expect(response.status).toBe(400);
  });

  it('refuses other media types with 415 and broken JSON with a parse error', async () => {
    expect((await post(initialize, { 'content-type': 'text/plain' })).status).toBe(415);
    const broken = await post('{"jsonrpc":');
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ error: { code: -32700 } });
  });

  it('offers only the tools whose capability is present', async () => {
    const client = await connectClient(stack.endpoint, 'legacy');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['chat', 'fuse', 'list_models']);
    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toEqual(['fusion://models']);
    await client.close();
  });
});

describe('the MCP endpoint behind API keys', () => {
  let stack: McpStack;
  beforeAll(async () => {
    stack = await startMcpStack({ rag: false, apiKeys: ['sesame'] });
  });
  afterAll(() => stack?.close());

  it('needs the bearer token', async () => {
    await expect(connectClient(stack.endpoint, 'legacy')).rejects.toThrow();
    const response = await fetch(stack.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(401);
    for (const era of ['legacy', 'modern'] as const) {
      const client = await connectClient(stack.endpoint, era, { authorization: 'Bearer sesame' });
      expect((await client.listTools()).tools.length).toBe(3);
      await client.close();
    }
  });
});

describe('the MCP tools behind a key with a token limit', () => {
  it.each(['legacy', 'modern'] as const)(
    'count the tokens of a chat (%s) against the key that called it',
    async (era) => {
      const stack = await startMcpStack({
        rag: false,
        apiKeys: [{ id: 'limited', key: 'sesame', tokensPerMinute: 3 }, 'other'],
      });
      try {
        const headers = { authorization: 'Bearer sesame' };
        const client = await connectClient(stack.endpoint, era, headers);
        const result = (await client.callTool({
          name: 'chat',
          arguments: { model: 'mock/second', prompt: 'Hello?' },
        })) as Structured;
        expect(result.isError).toBeFalsy();
        await client.close();
        await expectLimited(stack, headers);
      } finally {
        await stack.close();
      }
    },
  );

  it.each(['legacy', 'modern'] as const)(
    'count the tokens of an ask prompt (%s) against the key that called it',
    async (era) => {
      const stack = await startMcpStack({
        rag: false,
        apiKeys: [{ id: 'limited', key: 'sesame', tokensPerMinute: 3 }, 'other'],
      });
      try {
        const headers = { authorization: 'Bearer sesame' };
        const client = await connectClient(stack.endpoint, era, headers);
        const prompt = await client.getPrompt({
          name: 'ask',
          arguments: { model: 'mock/second', question: 'Hello?' },
        });
        expect(prompt.messages).toHaveLength(2);
        await client.close();
        await expectLimited(stack, headers);
      } finally {
        await stack.close();
      }
    },
  );
});

/** The key spent its tokens: its next request waits (429), another key's does not. */
async function expectLimited(stack: McpStack, headers: Record<string, string>) {
  const after = await fetch(`${stack.url}/v1/models`, { headers });
  expect(after.status).toBe(429);
  expect(after.headers.get('retry-after')).toMatch(/^\d+$/);
  const other = await fetch(`${stack.url}/v1/models`, { headers: { authorization: 'Bearer other' } });
  expect(other.status).toBe(200);
}

describe('MCP sessions behind API keys', () => {
  it('serve a session only to the key that opened it, here and on an instance that takes it up', async () => {
    const records = new Map<string, McpSessionRecord>();
    const store = {
      get: async (id: string) => records.get(id),
      set: async (id: string, record: McpSessionRecord) => records.set(id, record),
      delete: async (id: string) => records.delete(id),
    };
    const apiKeys = ['key-a-secret', 'key-b-secret'];
    const one = await startMcpStack({ rag: false, apiKeys, mcp: { sessions: { store } } });
    const two = await startMcpStack({ rag: false, apiKeys, mcp: { sessions: { store } } });
    try {
      const rpc = (stack: McpStack, key: string, body: unknown, session?: string) =>
        fetch(stack.endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2025-11-25',
            authorization: `Bearer ${key}`,
            ...(session ? { 'mcp-session-id': session } : {}),
          },
          body: JSON.stringify(body),
        });
      const opened = await rpc(one, 'key-a-secret', {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'a', version: '1.0.0' },
        },
      });
      const session = opened.headers.get('mcp-session-id') ?? undefined;
      await opened.text();
      expect(session).toBeTruthy();
      await (
        await rpc(one, 'key-a-secret', { jsonrpc: '2.0', method: 'notifications/initialized' }, session)
      ).text();
      const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };
      // Another key: 404 on the instance that opened it, and no take-up on the other.
      for (const stack of [one, two]) {
        const other = await rpc(stack, 'key-b-secret', list, session);
        expect(other.status).toBe(404);
        await other.text();
      }
      for (const stack of [one, two]) {
        const own = await rpc(stack, 'key-a-secret', list, session);
        expect(own.status).toBe(200);
        expect(await own.text()).toContain('"chat"');
      }
    } finally {
      await one.close();
      await two.close();
    }
  });
});
