/**
 * `fusion serve` (the built CLI) as one MCP endpoint for two external servers of its `mcpServers`
 * config: one over stdio (a script the CLI starts), one over Streamable HTTP (in this process, on
 * port 0, stopped and started again). The SDK client sees their tools and prompts as
 * `server__name`, their resources as `server+uri`, with the per-server include/exclude and
 * destructive-tool rules; a server that goes down leaves the lists (health says so, the session is
 * told) while the other keeps working, and comes back when it does.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeHandler } from '@fusionkit/node';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI_BIN, type RunningCli, spawnCli } from '../support/spawn-cli.js';
// @ts-expect-error: a plain ES module fixture, shared with the stdio script.
import { buildNotesServer } from './__fixtures__/aggregated/notes-server.mjs';

const STDIO_SERVER = fileURLToPath(new URL('./__fixtures__/aggregated/stdio-server.mjs', import.meta.url));
const WAIT = { timeout: 30_000, interval: 100 };

/** The notes server over Streamable HTTP (stateless, as many are deployed), restartable on its port. */
async function startHttpNotes() {
  const mcp = createMcpHandler(() => buildNotesServer('http'));
  const listener = createNodeHandler({ handle: (request: Request) => mcp.fetch(request) });
  let http: Server | undefined;
  let port = 0;
  const start = async () => {
    http = createServer((request, response) => void listener(request, response));
    await new Promise<void>((resolve) => http!.listen(port, '127.0.0.1', () => resolve()));
    port = (http.address() as AddressInfo).port;
  };
  await start();
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    start,
    async stop() {
      const server = http!;
      http = undefined;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((block) => block.text ?? '').join('');
}

describe('fusion serve re-serves its mcpServers on /mcp', () => {
  let directory: string;
  let notes: Awaited<ReturnType<typeof startHttpNotes>>;
  let cli: RunningCli;
  let client: Client;
  const toolListChanges: number[] = [];

  const connect = async () => {
    const connected = new Client({ name: 'aggregator-test', version: '1.0.0' });
    await connected.connect(new StreamableHTTPClientTransport(new URL(`${cli.url}/mcp`)));
    return connected;
  };
  const toolNames = async () => (await client.listTools()).tools.map((tool) => tool.name).sort();
  const health = async () =>
    (
      (await (await fetch(`${cli.url}/api/mcp/servers`)).json()) as {
        servers: { name: string; healthy: boolean; tools: number; error?: string; transport: string }[];
      }
    ).servers;

  beforeAll(async () => {
    notes = await startHttpNotes();
    directory = await mkdtemp(join(tmpdir(), 'fusion-mcp-aggregator-'));
    const config = {
      healthIntervalMs: 0,
      mcp: { sessions: true },
      mcpServers: {
        local: { command: process.execPath, args: [STDIO_SERVER], exclude: ['secret'] },
        remote: {
          type: 'http',
          url: notes.url,
          include: ['echo', 'wipe'],
          allowDestructive: ['wipe'],
          healthIntervalMs: 200,
          restartDelayMs: 100,
          maxRestartDelayMs: 400,
        },
      },
    };
    await writeFile(join(directory, 'fusion.config.json'), JSON.stringify(config, null, 2));
    cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: '' }, directory);
    client = await connect();
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      toolListChanges.push(Date.now());
    });
  }, 60_000);
  afterAll(async () => {
    await client?.close().catch(() => {});
    await cli?.stop();
    await notes?.stop().catch(() => {});
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('lists both servers’ tools namespaced, with include/exclude and the destructive rule applied', async () => {
    const names = await toolNames();
    expect(names).toEqual(
      expect.arrayContaining(['list_models', 'local__echo', 'remote__echo', 'remote__wipe']),
    );
    // local: `secret` excluded, `wipe` destructive and not allowed; remote: only `echo` and `wipe` included.
    for (const hidden of ['local__secret', 'local__wipe', 'remote__secret'])
      expect(names).not.toContain(hidden);
    const echo = (await client.listTools()).tools.find((tool) => tool.name === 'remote__echo');
    expect(echo?.inputSchema).toMatchObject({ properties: { text: { type: 'string' } } });
  });

  it('routes each call to the server that owns the tool', async () => {
    expect(textOf(await client.callTool({ name: 'local__echo', arguments: { text: 'hi' } }))).toBe(
      'echo hi from stdio',
    );
    expect(textOf(await client.callTool({ name: 'remote__echo', arguments: { text: 'yo' } }))).toBe(
      'echo yo from http',
    );
    expect(textOf(await client.callTool({ name: 'remote__wipe', arguments: {} }))).toBe('wiped http');
  });

  it('answers a JSON-RPC error for a tool it does not re-serve, a malformed name or bad arguments', async () => {
    for (const name of ['local__wipe', 'local__secret', 'nosuch__echo', 'local__', '__echo', 'bad name!']) {
      await expect(client.callTool({ name, arguments: {} }), name).rejects.toThrow(/not found/i);
    }
    const invalid = await client
      .callTool({ name: 'remote__echo', arguments: { text: 42 } })
      .catch((error) => error);
    expect(String((invalid as Error).message ?? textOf(invalid))).toMatch(/invalid/i);
    // A name that is not a string, sent raw: an error answer, and the server still serves.
    const raw = await fetch(`${cli.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 42 } }),
    });
    expect(raw.status).toBeLessThan(500);
    const body = await raw.text();
    expect(body).toMatch(/"error"/);
    expect(await toolNames()).toContain('local__echo');
  });

  it('serves 2026-07-28 clients (stateless) the same tools', async () => {
    const modern = new Client(
      { name: 'aggregator-modern', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await modern.connect(new StreamableHTTPClientTransport(new URL(`${cli.url}/mcp`)));
    const names = (await modern.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['local__echo', 'remote__echo', 'remote__wipe']));
    expect(textOf(await modern.callTool({ name: 'remote__echo', arguments: { text: 'new' } }))).toBe(
      'echo new from http',
    );
    await modern.close();
  });

  it('re-serves each server’s resources (namespaced URIs, templates too) and prompts', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((resource) => resource.uri);
    expect(uris).toEqual(expect.arrayContaining(['local+note://readme', 'remote+note://readme']));
    const local = await client.readResource({ uri: 'local+note://readme' });
    expect(local.contents[0]).toMatchObject({ uri: 'local+note://readme', text: 'readme of stdio' });
    const remote = await client.readResource({ uri: 'remote+note://readme' });
    expect(remote.contents[0]).toMatchObject({ text: 'readme of http' });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate)).toEqual(
      expect.arrayContaining(['local+note://items/{id}', 'remote+note://items/{id}']),
    );
    const item = await client.readResource({ uri: 'remote+note://items/7' });
    expect(item.contents[0]).toMatchObject({ uri: 'remote+note://items/7', text: 'item 7 of http' });
    await expect(client.readResource({ uri: 'nosuch+note://readme' })).rejects.toThrow();

    const { prompts } = await client.listPrompts();
    expect(prompts.map((prompt) => prompt.name)).toEqual(
      expect.arrayContaining(['local__greet', 'remote__greet']),
    );
    expect(prompts.find((prompt) => prompt.name === 'local__greet')?.arguments).toEqual([
      expect.objectContaining({ name: 'name', required: true }),
    ]);
    for (const [server, label] of [
      ['local', 'stdio'],
      ['remote', 'http'],
    ] as const) {
      const prompt = await client.getPrompt({ name: `${server}__greet`, arguments: { name: 'Ann' } });
      expect(prompt.messages[0]?.content).toMatchObject({ type: 'text', text: `Hello Ann from ${label}` });
    }
    await expect(client.getPrompt({ name: 'local__greet', arguments: {} })).rejects.toThrow();
  });

  it('reports health; a server that goes down leaves the lists while the other keeps working, and comes back', async () => {
    expect(await health()).toEqual([
      expect.objectContaining({ name: 'local', transport: 'stdio', healthy: true, tools: 1 }),
      expect.objectContaining({ name: 'remote', transport: 'http', healthy: true, tools: 2 }),
    ]);
    const changesBefore = toolListChanges.length;
    await notes.stop();
    await vi.waitFor(async () => {
      const remote = (await health()).find((server) => server.name === 'remote');
      expect(remote).toMatchObject({ healthy: false, tools: 0 });
      expect(remote?.error).toMatch(/remote/);
    }, WAIT);
    await vi.waitFor(async () => expect(toolListChanges.length).toBeGreaterThan(changesBefore), WAIT);
    const names = await toolNames();
    expect(names).toContain('local__echo');
    expect(names.filter((name) => name.startsWith('remote__'))).toEqual([]);
    expect(textOf(await client.callTool({ name: 'local__echo', arguments: { text: 'still' } }))).toBe(
      'echo still from stdio',
    );
    // A client that connects now sees the same.
    const fresh = await connect();
    expect((await fresh.listTools()).tools.map((tool) => tool.name)).not.toContain('remote__echo');
    await fresh.close();

    await notes.start();
    await vi.waitFor(async () => expect(await toolNames()).toContain('remote__echo'), WAIT);
    expect(textOf(await client.callTool({ name: 'remote__echo', arguments: { text: 'back' } }))).toBe(
      'echo back from http',
    );
    expect((await health()).every((server) => server.healthy)).toBe(true);
  }, 90_000);
});

describe('fusion mcp re-serves its mcpServers over stdio', () => {
  let directory: string;
  let client: Client;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'fusion-mcp-aggregator-stdio-'));
    const config = {
      healthIntervalMs: 0,
      mcpServers: { local: { command: process.execPath, args: [STDIO_SERVER] } },
    };
    await writeFile(join(directory, 'fusion.config.json'), JSON.stringify(config));
    client = new Client({ name: 'aggregator-stdio-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI_BIN, 'mcp'],
        cwd: directory,
        env: { PATH: process.env.PATH ?? '', FUSION_UPSTREAMS: '' },
        stderr: 'ignore',
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await client?.close().catch(() => {});
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('lists and calls the server’s tools and reads its resources', async () => {
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['list_models', 'local__echo', 'local__secret']));
    expect(names).not.toContain('local__wipe');
    expect(textOf(await client.callTool({ name: 'local__echo', arguments: { text: 'via stdio' } }))).toBe(
      'echo via stdio from stdio',
    );
    const readme = await client.readResource({ uri: 'local+note://readme' });
    expect(readme.contents[0]).toMatchObject({ text: 'readme of stdio' });
  });
});
