/**
 * An orchestrator with mock models, a real RAG store (lexical, in a temp dir), a job runner and the
 * MCP plugin, served through the node adapter or Express on port 0; and SDK clients for it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiKeyOptions, type ChatRequest, createFusion, type Fusion, JobRunner } from '@fusionkit/core';
import { createMockProvider, type MockProvider } from '@fusionkit/core/test';
import { createExpressMiddleware } from '@fusionkit/express';
import { type McpHttpOptions, mcpPlugin } from '@fusionkit/mcp';
import { serve } from '@fusionkit/node';
import { RagStore } from '@fusionkit/rag';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import express from 'express';

export type Adapter = 'node' | 'express';
export type Era = 'legacy' | 'modern';

export interface McpStack {
  fusion: Fusion;
  provider: MockProvider;
  url: string;
  /** `url` + `/mcp`. */
  endpoint: string;
  store?: RagStore;
  jobs?: JobRunner;
  /** A folder the RAG store may read files from. */
  root?: string;
  close(): Promise<void>;
}

/** Words of the reply echo the prompt's marker, so a client can tell its own text from another's. */
function echoReply(request: ChatRequest): string {
  const last = request.messages.at(-1);
  const text = typeof last?.content === 'string' ? last.content : '';
  const marker = /marker-\w+/.exec(text)?.[0];
  return marker ? Array.from({ length: 12 }, () => marker).join(' ') : `You said: ${text}`;
}

export async function startMcpStack(
  options: {
    adapter?: Adapter;
    rag?: boolean;
    apiKeys?: (string | ApiKeyOptions)[];
    mcp?: Omit<McpHttpOptions, 'fusion'>;
  } = {},
): Promise<McpStack> {
  const provider = createMockProvider({
    id: 'mock',
    models: [
      { id: 'echo', reply: echoReply },
      { id: 'paced', reply: echoReply, delayMs: 5 },
      { id: 'second', reply: 'The second opinion.' },
      { id: 'slow', reply: 'one two three four five six seven eight', delayMs: 150 },
      { id: 'embed', type: 'embeddings', capabilities: { embeddings: true } },
    ],
  });
  let store: RagStore | undefined;
  let jobs: JobRunner | undefined;
  let dir: string | undefined;
  let root: string | undefined;
  if (options.rag !== false) {
    dir = await mkdtemp(join(tmpdir(), 'fusion-mcp-'));
    root = join(dir, 'docs');
    await import('node:fs/promises').then(({ mkdir }) => mkdir(root!, { recursive: true }));
    await writeFile(
      join(root, 'guide.md'),
      '# Guide\n\nInstall the orchestrator with npm install fusionkit.\n',
    );
    store = new RagStore({ dir: join(dir, 'state'), sources: { roots: [root] } });
    const docs = await store.createCollection('docs', { vector: false });
    await docs.ingest([
      { type: 'text', id: 'intro', title: 'Intro', text: 'Fusion combines several models by voting.' },
    ]);
    jobs = new JobRunner();
  }
  const fusion = createFusion({
    providers: [provider],
    healthIntervalMs: 0,
    ...(options.apiKeys ? { apiKeys: options.apiKeys } : {}),
  });
  await fusion.use(
    mcpPlugin({
      fusion,
      ...(store ? { rag: { store, ...(jobs ? { jobs } : {}) } } : {}),
      progressEveryChunks: 2,
      ...options.mcp,
    }),
  );
  let url: string;
  let stop: () => Promise<void>;
  if ((options.adapter ?? 'node') === 'node') {
    const server = await serve(fusion, { port: 0, signals: false, shutdownTimeoutMs: 1000 });
    url = server.url;
    stop = () => server.close();
  } else {
    const app = express();
    app.use(createExpressMiddleware(fusion));
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    stop = async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fusion.close({ timeoutMs: 500 });
    };
  }
  return {
    fusion,
    provider,
    url,
    endpoint: `${url}/mcp`,
    ...(store ? { store } : {}),
    ...(jobs ? { jobs } : {}),
    ...(root ? { root } : {}),
    async close() {
      await stop();
      await jobs?.close();
      await store?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An SDK client connected to the endpoint, speaking the 2025 protocol (legacy) or 2026-07-28. */
export async function connectClient(
  endpoint: string,
  era: Era = 'modern',
  headers?: Record<string, string>,
): Promise<Client> {
  const client = new Client(
    { name: 'test', version: '1.0.0' },
    era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {},
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(endpoint), headers ? { requestInit: { headers } } : {}),
  );
  return client;
}
