/**
 * MCP sessions across two `fusion serve` instances sharing Redis: an SDK client whose requests a
 * round-robin balancer sends to either instance keeps one session (the second instance takes it up
 * from the record in Redis), and a session ended on one instance is gone on the other.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

let redis: TestRedis;
let upstream: MockUpstream;
let directory: string;
const instances: RunningCli[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  upstream = await startMockUpstream();
  directory = await mkdtemp(join(tmpdir(), 'fusion-mcp-sessions-'));
  const config = { upstreams: { lab: upstream.baseURL }, healthIntervalMs: 0, mcp: { sessions: true } };
  await writeFile(join(directory, 'fusion.config.json'), JSON.stringify(config, null, 2));
  const env = { FUSION_UPSTREAMS: '', FUSION_REDIS_URL: redis.url, FUSION_REDIS_PREFIX: redis.prefix };
  instances.push(await spawnCli(['serve'], env, directory), await spawnCli(['serve'], env, directory));
}, 60_000);

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.stop('SIGKILL')));
  await upstream?.close();
  await redis?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
});

/** A fetch that sends each request to the next instance, as a round-robin load balancer would. */
function roundRobin(served: string[]): typeof fetch {
  let next = 0;
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const instance = instances[next++ % instances.length]!;
    served.push(instance.url);
    return fetch(`${instance.url}${url.pathname}`, init);
  };
}

describe('MCP sessions on two fusion serve instances sharing Redis', () => {
  it('keeps one session whichever instance a request reaches, and ends it for both', async () => {
    const served: string[] = [];
    const client = new Client({ name: 'balanced', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${instances[0]!.url}/mcp`), {
      fetch: roundRobin(served),
    });
    await client.connect(transport);
    const sessionId = transport.sessionId;
    expect(sessionId).toBeTruthy();
    for (let round = 0; round < 3; round++) {
      const tools = await client.listTools();
      expect(tools.tools.map((tool) => tool.name)).toContain('chat');
      const result = await client.callTool({
        name: 'chat',
        arguments: { model: 'lab/qwen2.5-0.5b-instruct-4bit', prompt: `round ${round}` },
      });
      expect(result.isError).toBeFalsy();
    }
    expect(transport.sessionId).toBe(sessionId);
    expect(new Set(served).size).toBe(2);
    await transport.terminateSession();
    await client.close();
    for (const instance of instances) {
      const response = await fetch(`${instance.url}/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sessionId!,
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
      });
      expect(response.status).toBe(404);
    }
  });
});
