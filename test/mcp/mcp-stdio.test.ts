import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI_BIN } from '../support/spawn-cli.js';

const CONFIG = fileURLToPath(new URL('./__fixtures__/stdio/fusion.config.mjs', import.meta.url));

interface Structured {
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** `fusion mcp` as an MCP client configures it: a command, its arguments, stdin/stdout. */
async function startClient(era: 'legacy' | 'modern'): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_BIN, 'mcp', '--config', CONFIG],
    stderr: 'pipe',
  });
  let stderr = '';
  (transport.stderr as Readable).on('data', (data: Buffer) => {
    stderr += data.toString();
  });
  const client = new Client(
    { name: 'stdio-test', version: '1.0.0' },
    era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {},
  );
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

describe.each(['legacy', 'modern'] as const)('fusion mcp over stdio (%s protocol)', (era) => {
  let client: Client;
  let stderr: () => string;

  beforeAll(async () => {
    ({ client, stderr } = await startClient(era));
  });
  afterAll(() => client?.close());

  it('lists the tools the configured orchestrator can back', async () => {
    expect(client.getProtocolEra()).toBe(era);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['chat', 'fuse', 'list_models']);
    expect(stderr()).toContain('fusion mcp: serving 2 models over stdio');
  });

  it('calls each tool', async () => {
    const models = (await client.callTool({ name: 'list_models', arguments: {} })) as Structured;
    expect(((models.structuredContent?.models ?? []) as { id: string }[]).map((model) => model.id)).toEqual([
      'stub/echo',
      'stub/slow',
    ]);
    const chat = (await client.callTool({
      name: 'chat',
      arguments: { model: 'stub/echo', prompt: 'hi' },
    })) as Structured;
    expect(chat.structuredContent).toMatchObject({ content: 'You said: hi', finish_reason: 'stop' });
    const fuse = (await client.callTool({
      name: 'fuse',
      arguments: { targets: ['stub/echo', 'stub/slow'], strategy: 'fallback', prompt: 'hello' },
    })) as Structured;
    expect(fuse.structuredContent).toMatchObject({ content: 'You said: hello', strategy: 'fallback' });
  });

  it('sends progress notifications while a chat streams', async () => {
    const progress: { progress: number; message?: string }[] = [];
    const result = (await client.callTool(
      { name: 'chat', arguments: { model: 'stub/slow', prompt: 'count' } },
      { onprogress: (update) => progress.push(update) },
    )) as Structured;
    const content = String(result.structuredContent?.content);
    expect(content).toBe('one two three four five six seven eight nine ten eleven twelve');
    // The server sends a last report right before the result; the SDK client runs notification
    // handlers a microtask after it handles the response, so a report read together with the result
    // can be dropped on its side. The reports spread over the stream arrive.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(content.startsWith(progress.map((update) => update.message).join(''))).toBe(true);
  });

  it('answers invalid arguments with a tool error', async () => {
    const result = (await client.callTool({ name: 'chat', arguments: { prompt: 'no model' } })) as Structured;
    expect(result.isError).toBe(true);
  });

  it('notifications/cancelled aborts the model call', async () => {
    const controller = new AbortController();
    const call = client.callTool(
      { name: 'chat', arguments: { model: 'stub/slow', prompt: 'slowly' } },
      { signal: controller.signal, onprogress: () => controller.abort() },
    );
    await expect(call).rejects.toThrow();
    await vi.waitFor(() => expect(stderr()).toContain('stub: aborted slow'), { timeout: 5000 });
    // The server goes on answering after a cancellation.
    const after = (await client.callTool({
      name: 'chat',
      arguments: { model: 'stub/echo', prompt: 'still there?' },
    })) as Structured;
    expect(after.structuredContent?.content).toBe('You said: still there?');
  });
});

describe('fusion mcp as a process', () => {
  it('exits with 0 when the client closes stdin', async () => {
    const child = spawn(process.execPath, [CLI_BIN, 'mcp', '--config', CONFIG], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`,
    );
    await vi.waitFor(() => expect(stdout).toContain('"id":1'), { timeout: 10_000 });
    child.stdin.end();
    expect(await exited).toBe(0);
    // Nothing but MCP messages on stdout.
    for (const line of stdout.trim().split('\n')) expect(JSON.parse(line).jsonrpc).toBe('2.0');
  });
});
