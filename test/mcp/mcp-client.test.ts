import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChatRequest, createFusion, type Fusion } from '@fusionkit/core';
import { McpConnection, type McpToolsPlugin, mcpToolsPlugin } from '@fusionkit/mcp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createToolCallingProvider,
  toolMessages,
} from '../../packages/core/src/tools/__fixtures__/tool-calling-provider.js';

/** The reference filesystem server from npm, run with this Node (no `npx`, no network). */
const FILESYSTEM_SERVER = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', import.meta.url),
);
const FLAKY_SERVER = fileURLToPath(new URL('./__fixtures__/flaky-server.mjs', import.meta.url));

/** Whether a process runs: it exists and is not a zombie waiting for init to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

describe('our client against @modelcontextprotocol/server-filesystem over stdio', () => {
  let dir: string;
  let connection: McpConnection;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-fs-'));
    await writeFile(join(dir, 'notes.txt'), 'The launch code is 4217.\n');
    connection = new McpConnection('fs', { command: process.execPath, args: [FILESYSTEM_SERVER, dir] });
    await connection.connect();
  });
  afterAll(async () => {
    await connection?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists its tools with their annotations', () => {
    const names = connection.tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['read_text_file', 'list_directory', 'write_file']));
    const read = connection.tools.find((tool) => tool.name === 'read_text_file');
    expect(read?.annotations?.readOnlyHint).toBe(true);
  });

  it('calls its tools', async () => {
    const listing = await connection.callTool('list_directory', { path: dir });
    expect(JSON.stringify(listing.content)).toContain('notes.txt');
    const read = await connection.callTool('read_text_file', { path: join(dir, 'notes.txt') });
    expect(JSON.stringify(read.content)).toContain('4217');
    const outside = await connection.callTool('read_text_file', { path: '/etc/hostname' });
    expect(outside.isError).toBe(true);
  });
});

describe('the tool loop with the filesystem server’s tools', () => {
  let dir: string;
  let fusion: Fusion | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-loop-'));
    await writeFile(join(dir, 'notes.txt'), 'The launch code is 4217.\n');
  });
  afterEach(async () => {
    await fusion?.close();
    fusion = undefined;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** A model that lists the folder, reads the file it found, then answers from it. */
  function readingModel() {
    return createToolCallingProvider((request: ChatRequest) => {
      const results = toolMessages(request);
      if (results.length === 0)
        return { toolCalls: [{ name: 'fs__list_directory', arguments: JSON.stringify({ path: dir }) }] };
      if (results.length === 1) {
        const file = /\[FILE\] (\S+)/.exec(results[0]!)?.[1];
        return {
          toolCalls: [
            { name: 'fs__read_text_file', arguments: JSON.stringify({ path: join(dir, file ?? '?') }) },
          ],
        };
      }
      return { content: `From the file: ${results[1]!.trim()}` };
    });
  }

  function fusionWith(provider: ReturnType<typeof readingModel>, allowDestructive: string[] = []) {
    const tools = mcpToolsPlugin({
      servers: {
        fs: {
          command: process.execPath,
          args: [FILESYSTEM_SERVER, dir],
          timeoutMs: 10_000,
          allowDestructive,
        },
      },
    });
    fusion = createFusion({ providers: [provider], plugins: [tools], healthIntervalMs: 0 });
    return fusion;
  }

  it('registers the server’s tools as fs__tool and runs them for the model, not streamed and streamed', async () => {
    const provider = readingModel();
    const orchestrator = fusionWith(provider);
    await orchestrator.ready;
    expect([...orchestrator.tools.keys()]).toEqual(
      expect.arrayContaining(['fs__read_text_file', 'fs__list_directory']),
    );
    const request: ChatRequest = {
      model: 'fake/tools',
      messages: [{ role: 'user', content: 'What is the launch code?' }],
      fusion_tools: ['fs__*'],
    };
    const result = await orchestrator.chat(request);
    expect(result.choices[0]?.message.content).toBe('From the file: The launch code is 4217.');
    expect((result.fusion_tool_calls as { name: string }[]).map((step) => step.name)).toEqual([
      'fs__list_directory',
      'fs__read_text_file',
    ]);
    const offered = provider.requests[0]!.tools!.map((tool) => tool.function.name);
    expect(offered).toContain('fs__read_text_file');
    expect(offered).not.toContain('fs__write_file');

    let text = '';
    for await (const chunk of orchestrator.stream(request)) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('From the file: The launch code is 4217.');
  });

  it('runs a destructive tool only when the server config allows it', async () => {
    const target = join(dir, 'written.txt');
    const writer = () =>
      createToolCallingProvider((request) =>
        toolMessages(request).length
          ? { content: toolMessages(request)[0]! }
          : {
              toolCalls: [
                { name: 'fs__write_file', arguments: JSON.stringify({ path: target, content: 'hello' }) },
              ],
            },
      );
    const request: ChatRequest = {
      model: 'fake/tools',
      messages: [{ role: 'user', content: 'Write it.' }],
      fusion_tools: ['*'],
    };
    const refused = await fusionWith(writer()).chat(request);
    expect(refused.choices[0]?.message.content).toMatch(/no tool named 'fs__write_file'/);
    await expect(readFile(target, 'utf8')).rejects.toThrow();
    await fusion!.close();

    const allowed = await fusionWith(writer(), ['write_file']).chat(request);
    expect(allowed.choices[0]?.message.content).not.toMatch(/^Error/);
    expect(await readFile(target, 'utf8')).toBe('hello');
  });
});

describe('a stdio server that misbehaves', () => {
  let plugin: McpToolsPlugin;
  let fusion: Fusion;
  const errors: string[] = [];

  beforeAll(async () => {
    plugin = mcpToolsPlugin({
      servers: {
        flaky: { command: process.execPath, args: [FLAKY_SERVER], timeoutMs: 5000, restartDelayMs: 200 },
      },
      onError: (error) => errors.push(error.message),
    });
    fusion = createFusion({ plugins: [plugin], healthIntervalMs: 0 });
    await fusion.ready;
  });
  afterAll(() => fusion?.close());

  const connection = () => plugin.connections.get('flaky')!;
  const run = (name: string, input: Record<string, unknown> = {}) =>
    fusion.tools.get(name)!.doExecute(input, { signal: new AbortController().signal, requestId: 'test' });

  it('reports a crash as the call’s error, then restarts the server', async () => {
    const before = connection().pid!;
    await expect(run('flaky__crash')).rejects.toThrow(/MCP server 'flaky' exited.*crashing on purpose/);
    expect(connection().state).not.toBe('connected');
    await vi.waitFor(() => expect(connection().state).toBe('connected'), { timeout: 5000 });
    const echo = await run('flaky__echo', { text: 'again' });
    expect(echo.content).toMatch(/^echo again from \d+$/);
    expect(connection().pid).not.toBe(before);
    expect(alive(before)).toBe(false);
  });

  it('reports junk on stdout at once (not after the timeout), then restarts the server', async () => {
    const startedAt = Date.now();
    await expect(run('flaky__junk')).rejects.toThrow(/not an MCP message: "this is not JSON-RPC"/);
    expect(Date.now() - startedAt).toBeLessThan(4000);
    await vi.waitFor(() => expect(connection().state).toBe('connected'), { timeout: 5000 });
    expect((await run('flaky__echo', { text: 'ok' })).content).toMatch(/^echo ok/);
    expect(errors.some((message) => message.includes('not an MCP message'))).toBe(true);
  });

  it('bridges the tools a server adds while it runs (notifications/tools/list_changed)', async () => {
    expect(fusion.tools.has('flaky__late')).toBe(false);
    expect((await run('flaky__add_tool', { name: 'late' })).content).toBe('added');
    await vi.waitFor(() => expect(fusion.tools.has('flaky__late')).toBe(true), { timeout: 5000 });
    expect((await run('flaky__late')).content).toBe(`late from ${connection().pid}`);
  });

  it('waits longer before each restart while the server keeps failing', async () => {
    // Measured to the end of the wait (the start begins), not to the end of the start: how long a
    // process takes to start on a busy machine varies by more than the 200 ms the waits differ by.
    const waits: number[] = [];
    for (let round = 0; round < 2; round++) {
      await run('flaky__crash').catch(() => {});
      const crashedAt = Date.now();
      while (connection().state === 'restarting') await new Promise((resolve) => setTimeout(resolve, 5));
      waits.push(Date.now() - crashedAt);
      await vi.waitFor(() => expect(connection().state).toBe('connected'), { timeout: 5000 });
    }
    expect(waits[1]!).toBeGreaterThan(waits[0]! + 50);
  });

  it('gives a call its own timeout from the config, not the SDK’s 60 s', async () => {
    const slow = new McpConnection('slow', {
      command: process.execPath,
      args: [FLAKY_SERVER],
      timeoutMs: 300,
    });
    try {
      const startedAt = Date.now();
      await expect(slow.callTool('sleep', { ms: 5000 })).rejects.toThrow(/timed out|timeout/i);
      expect(Date.now() - startedAt).toBeLessThan(3000);
    } finally {
      await slow.close();
    }
  });

  it('leaves no process behind when closed', async () => {
    const spawned = JSON.parse((await run('flaky__spawn_child')).content) as {
      server: number;
      child: number;
    };
    expect(alive(spawned.server)).toBe(true);
    expect(alive(spawned.child)).toBe(true);
    await fusion.close();
    await vi.waitFor(
      () => {
        expect(alive(spawned.server)).toBe(false);
        expect(alive(spawned.child)).toBe(false);
      },
      { timeout: 5000 },
    );
    expect(connection().state).toBe('closed');
  });
});
