import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatRequest, createFusion, type Fusion, type FusionOptions } from '@fusionkit/core';
import { createMockProvider, type MockProvider } from '@fusionkit/core/test';
import { type RagPlugin, ragPlugin } from '../plugin/rag-plugin.js';
import type { RagPluginOptions } from '../plugin/rag-plugin-options.js';

/** What the generator of the fixture saw last: the system message with the numbered sources. */
export function systemText(request: ChatRequest): string {
  const first = request.messages[0];
  return first?.role === 'system' && typeof first.content === 'string' ? first.content : '';
}

/**
 * The mock generator's reply: it cites [1] when the sources it was given mention the word it is
 * looking for, so tests can see that the context reached it.
 */
export function citingReply(request: ChatRequest): string {
  const sources = systemText(request).split('Sources:')[1] ?? '';
  if (/\[1\][^[]*port/i.test(sources)) return 'Ports below 1024 need root [1].';
  return 'I do not know.';
}

export interface RagFusionFixture {
  fusion: Fusion;
  plugin: RagPlugin;
  provider: MockProvider;
  /** Temporary state directory. */
  dir: string;
  /** The one root files may be ingested from (`<dir>/docs`, holding guide.md and notes.txt). */
  root: string;
  /** Sends a request to `fusion.handle`; JSON bodies are serialised. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Sends a request and reads the JSON answer. */
  json<TBody = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: TBody }>;
  close(): Promise<void>;
}

/**
 * An orchestrator with a mock provider (`mock/gen` answers with {@link citingReply}, `mock/embed`
 * embeds with a hash) and the RAG plugin over a temporary directory.
 */
export async function createRagFusion(
  options: Partial<RagPluginOptions> = {},
  fusionOptions: { apiKeys?: FusionOptions['apiKeys'] } = {},
): Promise<RagFusionFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'rag-plugin-'));
  const root = join(dir, 'docs');
  await mkdir(root);
  await writeFile(join(root, 'guide.md'), '# Guide\n\n## Ports\n\nPorts below 1024 need root privileges.\n');
  await writeFile(join(root, 'notes.txt'), 'Bananas are rich in potassium.\n');
  const provider = createMockProvider({
    id: 'mock',
    models: [
      { id: 'gen', reply: citingReply },
      { id: 'embed', capabilities: { embeddings: true }, dimensions: 16 },
    ],
  });
  let fusion!: Fusion;
  const plugin = ragPlugin({
    dir,
    roots: [root],
    fusion: () => fusion,
    embeddingModel: 'mock/embed',
    generator: 'mock/gen',
    ...options,
  });
  fusion = createFusion({ providers: [provider], plugins: [plugin], healthIntervalMs: 0, ...fusionOptions });
  await fusion.ready;
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      if (body instanceof FormData) {
        // As it comes off the wire: bytes with their boundary. (A FormData body's own stream, cancelled
        // part-way as a too-large upload is, trips an undici bug on Node 24: enqueue after close.)
        const encoded = new Response(body);
        (init.headers as Record<string, string>)['content-type'] = encoded.headers.get('content-type')!;
        init.body = new Uint8Array(await encoded.arrayBuffer());
      } else if (typeof body === 'string' || body instanceof Uint8Array) {
        // Raw bytes of a JSON route (broken JSON, say): typed as JSON unless the test says otherwise.
        init.body = body as BodyInit;
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      } else {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
    }
    return fusion.handle(new Request(`http://rag.localhost${path}`, init));
  };
  return {
    fusion,
    plugin,
    provider,
    dir,
    root,
    request,
    async json<TBody>(method: string, path: string, body?: unknown) {
      const response = await request(method, path, body);
      return { status: response.status, body: (await response.json()) as TBody };
    },
    async close() {
      await fusion.close({ timeoutMs: 0 });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
