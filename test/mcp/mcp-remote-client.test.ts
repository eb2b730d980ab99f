import { type ChatRequest, createFusion, type Fusion } from '@fusionkit/core';
import { type McpToolsPlugin, mcpToolsPlugin } from '@fusionkit/mcp';
import { type NodeServer, serve } from '@fusionkit/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createToolCallingProvider,
  toolMessages,
} from '../../packages/core/src/tools/__fixtures__/tool-calling-provider.js';
import { type RemoteToolServer, startRemoteToolServer } from './__fixtures__/remote-tool-server.js';

/** Runs a bridged tool the way the tool loop does. */
function run(fusion: Fusion, name: string, input: Record<string, unknown> = {}, signal?: AbortSignal) {
  const tool = fusion.tools.get(name);
  if (!tool) throw new Error(`no tool ${name}; have ${[...fusion.tools.keys()].join(', ')}`);
  return tool.doExecute(input, { signal: signal ?? new AbortController().signal, requestId: 'test' });
}

function bridge(remote: RemoteToolServer, errors: string[] = []): McpToolsPlugin {
  return mcpToolsPlugin({
    servers: { remote: { url: remote.url, timeoutMs: 10_000, restartDelayMs: 100, maxRestartDelayMs: 400 } },
    onError: (error) => errors.push(error.message),
  });
}

describe('a remote MCP server (stateful Streamable HTTP) that restarts', () => {
  let remote: RemoteToolServer;
  let plugin: McpToolsPlugin;
  let fusion: Fusion;

  beforeAll(async () => {
    remote = await startRemoteToolServer();
    plugin = bridge(remote);
    fusion = createFusion({ plugins: [plugin], healthIntervalMs: 0 });
    await fusion.ready;
  });
  afterAll(async () => {
    await fusion?.close();
    await remote?.close();
  });

  it('starts a new session when the server forgot ours, and the call succeeds', async () => {
    expect((await run(fusion, 'remote__echo', { text: 'one' })).content).toBe('echo one from generation 1');
    await remote.stop();
    await remote.start();
    const after = await run(fusion, 'remote__echo', { text: 'two' });
    expect(after.content).toBe('echo two from generation 2');
    expect(remote.unknownSessions).toBeGreaterThan(0);
    expect(plugin.connections.get('remote')!.state).toBe('connected');
    // The session goes on: later calls need no new one.
    expect((await run(fusion, 'remote__echo', { text: 'three' })).content).toBe(
      'echo three from generation 2',
    );
  });

  it('reports a server that is down, and reaches it again once it is back', async () => {
    await remote.stop();
    await expect(run(fusion, 'remote__echo', { text: 'down' })).rejects.toThrow(
      /MCP server 'remote' could not be reached: \S/,
    );
    await remote.start();
    expect((await run(fusion, 'remote__echo', { text: 'back' })).content).toBe(
      `echo back from generation ${remote.generation}`,
    );
  });

  it('hears tool changes of a restarted server without a call in between', async () => {
    await remote.stop();
    await remote.start();
    // The notification stream finds the session gone and the connection starts a new one by itself.
    await vi.waitFor(() => expect(remote.notificationStreams).toBeGreaterThan(0), { timeout: 10_000 });
    remote.addTool('after_restart', 'new after the restart');
    await vi.waitFor(() => expect(fusion.tools.has('remote__after_restart')).toBe(true), {
      timeout: 10_000,
    });
    expect((await run(fusion, 'remote__after_restart')).content).toBe('new after the restart');
  });
});

describe('a remote MCP server whose connection drops before it answers', () => {
  let remote: RemoteToolServer;
  let plugin: McpToolsPlugin;
  let fusion: Fusion;

  beforeAll(async () => {
    remote = await startRemoteToolServer();
    plugin = bridge(remote);
    fusion = createFusion({ plugins: [plugin], healthIntervalMs: 0 });
    await fusion.ready;
  });
  afterAll(async () => {
    await fusion?.close();
    await remote?.close();
  });

  it('sends a read-only call again, once', async () => {
    remote.dropNextPosts(1);
    expect((await run(fusion, 'remote__echo', { text: 'again' })).content).toBe(
      'echo again from generation 1',
    );
    remote.dropNextPosts(2);
    await expect(run(fusion, 'remote__echo', { text: 'twice' })).rejects.toThrow(
      /MCP server 'remote' could not be reached/,
    );
  });

  it('does not send again a call that may change things: whether it ran is unknown', async () => {
    remote.dropNextPosts(1);
    const connection = plugin.connections.get('remote')!;
    await expect(connection.callTool('bump', {})).rejects.toThrow(/MCP server 'remote' could not be reached/);
    expect(remote.bumps).toBe(0);
    expect((await connection.callTool('bump', {})).content).toEqual([{ type: 'text', text: 'bumped to 1' }]);
  });
});

describe('notifications/tools/list_changed', () => {
  let remote: RemoteToolServer;
  let fusion: Fusion;

  beforeAll(async () => {
    remote = await startRemoteToolServer();
  });
  afterEach(() => fusion?.close());
  afterAll(() => remote?.close());

  it('updates the bridged tools, which the chat tool loop then offers and runs', async () => {
    const provider = createToolCallingProvider((request: ChatRequest) =>
      toolMessages(request).length
        ? { content: `The tool said: ${toolMessages(request)[0]}` }
        : { toolCalls: [{ name: 'remote__weather', arguments: '{}' }] },
    );
    fusion = createFusion({ providers: [provider], plugins: [bridge(remote)], healthIntervalMs: 0 });
    await fusion.ready;
    expect(fusion.tools.has('remote__weather')).toBe(false);
    // The server can only notify once the client's notification stream is open.
    await vi.waitFor(() => expect(remote.notificationStreams).toBeGreaterThan(0), { timeout: 10_000 });

    remote.addTool('weather', 'Sunny, 21 degrees.');
    await vi.waitFor(() => expect(fusion.tools.has('remote__weather')).toBe(true), { timeout: 10_000 });
    const result = await fusion.chat({
      model: 'fake/tools',
      messages: [{ role: 'user', content: 'Weather?' }],
      fusion_tools: ['remote__*'],
    });
    expect(result.choices[0]?.message.content).toBe('The tool said: Sunny, 21 degrees.');
    expect(provider.requests[0]!.tools!.map((tool) => tool.function.name)).toContain('remote__weather');

    remote.removeTool('weather');
    await vi.waitFor(() => expect(fusion.tools.has('remote__weather')).toBe(false), { timeout: 10_000 });
    expect(fusion.tools.has('remote__echo')).toBe(true);
  });
});

describe('a remote MCP server that is down when the orchestrator starts', () => {
  it('is connected once it is up, and its tools join', async () => {
    const remote = await startRemoteToolServer();
    await remote.stop();
    const errors: string[] = [];
    const fusion = createFusion({ plugins: [bridge(remote, errors)], healthIntervalMs: 0 });
    try {
      await fusion.ready;
      expect(fusion.tools.has('remote__echo')).toBe(false);
      expect(errors.join('\n')).toMatch(/MCP server 'remote' could not be reached/);
      await remote.start();
      await vi.waitFor(() => expect(fusion.tools.has('remote__echo')).toBe(true), { timeout: 10_000 });
      expect((await run(fusion, 'remote__echo', { text: 'up' })).content).toBe('echo up from generation 2');
    } finally {
      await fusion.close();
      await remote.close();
    }
  });
});

describe('cancelling a bridged tool call', () => {
  let remote: RemoteToolServer;
  let fusion: Fusion;
  let server: NodeServer;

  beforeAll(async () => {
    remote = await startRemoteToolServer();
    const provider = createToolCallingProvider((request: ChatRequest) =>
      toolMessages(request).length
        ? { content: 'done' }
        : {
            toolCalls: [
              { name: 'remote__wait', arguments: JSON.stringify({ label: request.messages[0]!.content }) },
            ],
          },
    );
    fusion = createFusion({ providers: [provider], plugins: [bridge(remote)], healthIntervalMs: 0 });
    await fusion.ready;
    server = await serve(fusion, { port: 0, signals: false, shutdownTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await server?.close();
    await remote?.close();
  });

  it('cancels the call at the server when the signal aborts', async () => {
    const controller = new AbortController();
    const call = run(fusion, 'remote__wait', { label: 'by-signal' }, controller.signal);
    await vi.waitFor(() => expect(remote.waiting).toContain('by-signal'), { timeout: 10_000 });
    controller.abort();
    await expect(call).rejects.toThrow();
    await vi.waitFor(() => expect(remote.cancelled).toContain('by-signal'), { timeout: 10_000 });
  });

  it('cancels the call at the server when the chat client disconnects', async () => {
    const controller = new AbortController();
    const response = fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'fake/tools',
        messages: [{ role: 'user', content: 'by-disconnect' }],
        fusion_tools: ['remote__*'],
      }),
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(remote.waiting).toContain('by-disconnect'), { timeout: 10_000 });
    controller.abort();
    await expect(response).rejects.toThrow();
    await vi.waitFor(() => expect(remote.cancelled).toContain('by-disconnect'), { timeout: 10_000 });
  });
});
