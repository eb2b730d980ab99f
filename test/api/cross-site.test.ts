import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChatRequest, createFusion, type Fusion } from '@fusionkit/core';
import { mcpToolsPlugin } from '@fusionkit/mcp';
import { type NodeServer, serve } from '@fusionkit/node';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createToolCallingProvider,
  type ToolCallingProvider,
  toolMessages,
} from '../../packages/core/src/tools/__fixtures__/tool-calling-provider.js';

/** The reference filesystem server from npm, run with this Node (no `npx`, no network). */
const FILESYSTEM_SERVER = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', import.meta.url),
);

/**
 * A web page open in the user's browser must not drive the user's local tools through the gateway:
 * every way a page can send a request across sites (a foreign Origin, `Origin: null`, a DNS-rebinding
 * Host, a "simple request" with a text or form body) is refused before the tool loop, against a real
 * server on port 0 with a real MCP tool (the filesystem server's `write_file`) bridged in.
 */
describe('cross-site requests naming a bridged MCP tool', () => {
  let dir: string;
  let target: string;
  let provider: ToolCallingProvider;
  let fusion: Fusion;
  let server: NodeServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-cross-site-'));
    target = join(dir, 'pwned.txt');
    // A model that writes the file the first time, then answers.
    provider = createToolCallingProvider((request: ChatRequest) =>
      toolMessages(request).length === 0
        ? {
            toolCalls: [
              { name: 'fs__write_file', arguments: JSON.stringify({ path: target, content: 'pwned' }) },
            ],
          }
        : { content: 'done' },
    );
    const tools = mcpToolsPlugin({
      servers: {
        fs: {
          command: process.execPath,
          args: [FILESYSTEM_SERVER, dir],
          timeoutMs: 10_000,
          allowDestructive: ['write_file'],
        },
      },
    });
    fusion = createFusion({ providers: [provider], plugins: [tools], healthIntervalMs: 0 });
    await fusion.ready;
    server = await serve(fusion, { port: 0, signals: false });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await rm(target, { force: true });
    provider.requests.length = 0;
  });

  const body = JSON.stringify({
    model: 'fake/tools',
    messages: [{ role: 'user', content: 'Write the file.' }],
    fusion_tools: ['fs__write_file'],
  });

  /** A raw request, with exactly the headers a browser (or an attacker's page) would send. */
  function send(
    headers: Record<string, string>,
    payload: string = body,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        agent: false,
        headers: { 'content-length': String(Buffer.byteLength(payload)), ...headers },
      });
      outgoing.on('error', reject);
      outgoing.on('response', (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      outgoing.end(payload);
    });
  }

  const evil = 'https://evil.example';
  const attackerHost = () => `attacker.example:${server.port}`;
  const cases: [string, () => Record<string, string>, string | undefined, number][] = [
    ['text/plain from another site', () => ({ 'content-type': 'text/plain', origin: evil }), undefined, 403],
    ['JSON from another site', () => ({ 'content-type': 'application/json', origin: evil }), undefined, 403],
    [
      'Origin: null (sandboxed frame, no-referrer form)',
      () => ({ 'content-type': 'text/plain', origin: 'null' }),
      undefined,
      403,
    ],
    [
      'another local site',
      () => ({ 'content-type': 'text/plain', origin: 'http://localhost:5173' }),
      undefined,
      403,
    ],
    [
      'a DNS-rebinding page (its own origin, the attacker’s Host)',
      () => ({
        'content-type': 'application/json',
        host: attackerHost(),
        origin: `http://${attackerHost()}`,
      }),
      undefined,
      403,
    ],
    [
      'a rebinding Host without Origin',
      () => ({ 'content-type': 'application/json', host: attackerHost() }),
      undefined,
      403,
    ],
    ['text/plain with a valid JSON payload', () => ({ 'content-type': 'text/plain' }), undefined, 415],
    [
      'a form post',
      () => ({ 'content-type': 'application/x-www-form-urlencoded' }),
      `${encodeURIComponent(body)}=`,
      415,
    ],
    ['a body without Content-Type', () => ({}), undefined, 415],
  ];

  for (const [name, headers, payload, status] of cases) {
    it(`does not run the tool for ${name} (${status})`, async () => {
      const response = await send(headers(), payload);
      expect(response.status).toBe(status);
      expect(JSON.parse(response.text)).toMatchObject({
        error: { type: expect.any(String), code: expect.any(String) },
      });
      expect(provider.requests).toHaveLength(0);
      expect(existsSync(target)).toBe(false);
    });
  }

  it('runs it for the openai client (no Origin), the same request the page could not make', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'fake/tools',
      messages: [{ role: 'user', content: 'Write the file.' }],
      // @ts-expect-error the orchestrator's extension of the request
      fusion_tools: ['fs__write_file'],
    });
    expect(completion.choices[0]?.message.content).toBe('done');
    expect(await readFile(target, 'utf8')).toBe('pwned');
  });
});
