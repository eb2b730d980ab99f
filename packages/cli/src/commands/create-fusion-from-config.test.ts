import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve-config.js';
import { bridgedServers, createFusionFromConfig } from './create-fusion-from-config.js';

describe('createFusionFromConfig: the resilience policy from fusion.config.json', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'fusion-resilience-'));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  async function fusionOf(config: Record<string, unknown>) {
    await writeFile(join(cwd, 'fusion.config.json'), JSON.stringify({ mcp: false, ...config }));
    return createFusionFromConfig(await resolveConfig({ cwd, env: {} }));
  }

  it('gives models called by name the default policy, with the configured settings', async () => {
    const fusion = await fusionOf({
      healthIntervalMs: 0,
      resilience: { retry: { maxRetries: 4 }, breaker: { consecutiveFailures: 1, cooldownMs: 60_000 } },
    });
    try {
      expect(fusion.targetHealth.modelCalls).toBe(true);
      expect(fusion.targetHealth.retry.maxRetries).toBe(4);
      const breaker = fusion.targetHealth.breaker('lab/model');
      breaker.onFailure();
      expect(breaker.state).toBe('open');
    } finally {
      await fusion.close();
    }
  });

  it('turns the policy off with resilience: false', async () => {
    const fusion = await fusionOf({ healthIntervalMs: 0, resilience: false });
    try {
      expect(fusion.targetHealth.modelCalls).toBe(false);
      expect(fusion.targetHealth.retry.maxRetries).toBe(0);
      const breaker = fusion.targetHealth.breaker('lab/model');
      for (let index = 0; index < 50; index++) breaker.onFailure();
      expect(breaker.state).toBe('closed');
    } finally {
      await fusion.close();
    }
  });
});

describe('createFusionFromConfig: an upstream with a fleet of hosts', () => {
  const servers: import('node:http').Server[] = [];
  let cwd: string;
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'fusion-fleet-'));
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await rm(cwd, { recursive: true, force: true });
  });

  /** A stub mlx-openai-server answering with its name and reporting `running` requests. */
  async function host(name: string, running: number): Promise<string> {
    const { createServer } = await import('node:http');
    const json = (response: import('node:http').ServerResponse, body: unknown) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path === '/health') return json(response, { status: 'ok' });
      if (path === '/v1/queue/stats') return json(response, { queue_stats: { queue_stats: { running } } });
      if (path === '/v1/models')
        return json(response, { object: 'list', data: [{ id: 'qwen', object: 'model' }] });
      request.resume();
      request.on('end', () =>
        json(response, {
          id: 'c',
          object: 'chat.completion',
          created: 1,
          model: 'qwen',
          choices: [{ index: 0, message: { role: 'assistant', content: name }, finish_reason: 'stop' }],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/v1`;
  }

  it('serves the hosts as one model and answers from the least busy one', async () => {
    const [first, second] = [await host('first', 2), await host('second', 0)];
    await writeFile(
      join(cwd, 'fusion.config.json'),
      JSON.stringify({
        mcp: false,
        healthIntervalMs: 0,
        upstreams: { lab: { baseURL: first, flavor: 'mlx-openai-server', fleet: [second] } },
      }),
    );
    const fusion = createFusionFromConfig(await resolveConfig({ cwd, env: {} }));
    try {
      await fusion.ready;
      expect((await fusion.models()).map((model) => model.id)).toEqual(['lab/qwen']);
      await fusion.registry.find('lab/qwen')!.provider.health!();
      const answer = await fusion.chat({ model: 'lab/qwen', messages: [{ role: 'user', content: 'hi' }] });
      expect(answer.choices[0]!.message.content).toBe('second');
    } finally {
      await fusion.close();
    }
  });

  it('refuses a fleet entry that is not a base URL, naming it', async () => {
    await writeFile(
      join(cwd, 'fusion.config.json'),
      JSON.stringify({ upstreams: { lab: { baseURL: 'http://127.0.0.1:1/v1', fleet: ['mac2:8000'] } } }),
    );
    await expect(resolveConfig({ cwd, env: {} })).rejects.toThrow(/fleet/);
  });
});

describe('bridgedServers: the config mcpServers as the tool bridge takes them', () => {
  it('leaves disabled servers out and drops the type other clients write', () => {
    expect(
      bridgedServers({
        fs: { type: 'stdio', command: 'npx', args: ['x'] },
        off: { command: 'node', disabled: true },
        web: { type: 'http', url: 'http://127.0.0.1:1/mcp', disabled: false, include: ['a'] },
      }),
    ).toEqual({
      fs: { command: 'npx', args: ['x'] },
      web: { url: 'http://127.0.0.1:1/mcp', include: ['a'] },
    });
  });
});
