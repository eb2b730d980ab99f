import { createFusion, type Fusion } from '@fusionkit/core';
import { createMockProvider } from '@fusionkit/core/test';
import { mcpPlugin } from '@fusionkit/mcp';
import { createNextRouteHandlers } from '@fusionkit/next';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('the MCP endpoint through the Next.js route handlers', () => {
  let fusion: Fusion;
  let client: Client;

  beforeAll(async () => {
    fusion = createFusion({
      providers: [createMockProvider({ id: 'mock', models: [{ id: 'echo', reply: 'From Next.' }] })],
      healthIntervalMs: 0,
    });
    await fusion.use(mcpPlugin({ fusion }));
    const handlers = createNextRouteHandlers(fusion, { basePath: '/api' });
    // `app/api/[...fusion]/route.ts` exports these; Next.js calls them with the request.
    const route = (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      const handler = handlers[request.method as keyof typeof handlers];
      return handler(request);
    };
    client = new Client({ name: 'next-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL('http://localhost:3000/api/mcp'), { fetch: route }),
    );
  });
  afterAll(async () => {
    await client?.close();
    await fusion?.close();
  });

  it('lists and calls tools at /api/mcp', async () => {
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual([
      'chat',
      'fuse',
      'list_models',
    ]);
    const result = (await client.callTool({
      name: 'chat',
      arguments: { model: 'mock/echo', prompt: 'hi' },
    })) as {
      structuredContent?: { content?: string };
    };
    expect(result.structuredContent?.content).toBe('From Next.');
  });
});
