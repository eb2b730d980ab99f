import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

describe('fusion serve (the built CLI, as `npm start` runs it)', () => {
  let upstream: MockUpstream;
  let cli: RunningCli;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startMockUpstream();
    cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: `lab=${upstream.baseURL}` });
    client = new OpenAI({ baseURL: `${cli.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  afterAll(async () => {
    await cli?.stop('SIGKILL');
    await upstream?.close();
  });

  it('prints where it listens and the models it serves', async () => {
    expect(cli.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await vi.waitFor(() => {
      expect(cli.output()).toContain('lab/qwen2.5-0.5b-instruct-4bit');
      expect(cli.output()).toContain('lab/bge-small-en');
    });
  });

  it("serves the upstream's models as name/model-id with their metadata", async () => {
    const page = await client.models.list();
    const model = page.data.find(
      (entry) => entry.id === 'lab/qwen2.5-0.5b-instruct-4bit',
    ) as unknown as Record<string, unknown>;
    expect(model).toMatchObject({
      object: 'model',
      owned_by: 'local-mlx',
      family: 'qwen2',
      context_length: 32_768,
    });
  });

  it('answers the openai client, streaming', async () => {
    const stream = await client.chat.completions.create({
      model: 'lab/qwen2.5-0.5b-instruct-4bit',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello from the mock upstream, streamed word by word.');
    expect(usage?.total_tokens).toBeGreaterThan(0);
    // The upstream saw the upstream's own model id, not the prefixed one.
    const last = upstream.requests.at(-1)!;
    expect((last.body as { model: string }).model).toBe('qwen2.5-0.5b-instruct-4bit');
  });

  it('passes the request id upstream and echoes it', async () => {
    const response = await fetch(`${cli.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-me-42' },
      body: JSON.stringify({
        model: 'lab/qwen2.5-0.5b-instruct-4bit',
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('trace-me-42');
    expect(upstream.requests.at(-1)!.headers['x-request-id']).toBe('trace-me-42');
  });

  it('serves the orchestrator as an MCP server at /mcp', async () => {
    const mcp = new Client({ name: 'fusion-serve-test', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${cli.url}/mcp`)));
    try {
      expect((await mcp.listTools()).tools.map((tool) => tool.name)).toEqual(
        expect.arrayContaining(['chat', 'fuse', 'list_models']),
      );
      const result = (await mcp.callTool({ name: 'list_models', arguments: {} })) as {
        structuredContent?: { models?: { id: string }[] };
      };
      expect(result.structuredContent?.models?.map((model) => model.id)).toContain(
        'lab/qwen2.5-0.5b-instruct-4bit',
      );
    } finally {
      await mcp.close();
    }
    expect(cli.output()).toContain(`MCP server at ${cli.url}/mcp`);
  });

  it('says 200 on /health once the upstream is up', async () => {
    const response = await fetch(`${cli.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });
  });
});

describe('fusion serve with an upstream that comes up later', () => {
  it('starts without its models, then serves them once it answers', async () => {
    // A port nobody listens on yet.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));

    const cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: `late=http://127.0.0.1:${port}/v1` });
    let upstream: MockUpstream | undefined;
    try {
      await vi.waitFor(() => expect(cli.output()).toContain("upstream 'late'"));
      expect((await fetch(`${cli.url}/health`)).status).toBe(503);
      upstream = await startMockUpstream({ port });
      // Discovery is retried on the health interval (5 s) while the upstream has no models.
      await vi.waitFor(() => expect(cli.output()).toContain('+ model late/qwen2.5-0.5b-instruct-4bit'), {
        timeout: 15_000,
        interval: 200,
      });
      // The models join at discovery; the health probe that follows marks them ready.
      await vi.waitFor(async () => expect((await fetch(`${cli.url}/health`)).status).toBe(200));
    } finally {
      await cli.stop('SIGKILL');
      await upstream?.close();
    }
  }, 30_000);
});

describe('fusion serve without any model', () => {
  it('starts, answers 503 on /health, and says how to add a model', async () => {
    const cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: '' });
    try {
      const response = await fetch(`${cli.url}/health`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { status: string; message: string };
      expect(body.status).toBe('unavailable');
      expect(body.message).toContain('FUSION_UPSTREAMS');
      await vi.waitFor(() => expect(cli.output()).toContain('FUSION_UPSTREAMS=lab=http://127.0.0.1:8000/v1'));
    } finally {
      await cli.stop('SIGKILL');
    }
  });

  it('logs one JSON line per request with its id when FUSION_LOG=requests', async () => {
    const cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: '', FUSION_LOG: 'requests' });
    try {
      await fetch(`${cli.url}/v1/models`, { headers: { 'x-request-id': 'log-me-1' } });
      await vi.waitFor(() => expect(cli.output()).toContain('"requestId":"log-me-1"'));
      const line = cli
        .output()
        .split('\n')
        .find((entry) => entry.includes('log-me-1') && entry.includes('"status"'))!;
      expect(JSON.parse(line)).toMatchObject({
        requestId: 'log-me-1',
        method: 'GET',
        path: '/v1/models',
        status: 200,
      });
    } finally {
      await cli.stop('SIGKILL');
    }
  });

  it('exits 0 on SIGTERM', async () => {
    const cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: '' });
    expect(await cli.stop('SIGTERM')).toBe(0);
  });

  it('refuses a malformed FUSION_UPSTREAMS with a one-line error', async () => {
    await expect(spawnCli(['serve'], { FUSION_UPSTREAMS: 'lab' })).rejects.toThrow(
      /exited with 2[\s\S]*FUSION_UPSTREAMS: got "lab", expected name=baseURL/,
    );
  });
});
