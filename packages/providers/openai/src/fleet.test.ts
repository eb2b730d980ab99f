/**
 * A fleet of real stub mlx-openai-server hosts on port 0, each reporting its own `/v1/queue/stats`:
 * calls go to the least busy ready host; a host that stops leaves the rotation, and joins it again
 * once it answers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServer } from './__fixtures__/mock-upstream.js';
import { createOpenAICompatibleFleet } from './create-openai-compatible-fleet.js';

interface StubHost {
  name: string;
  port: number;
  running: number;
  chats: number;
  server: Server;
  stop(): Promise<void>;
  start(): Promise<void>;
}

const hosts: StubHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.stop();
});

async function stubHost(name: string, running: number): Promise<StubHost> {
  const json = (response: import('node:http').ServerResponse, body: unknown) =>
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const host: StubHost = {
    name,
    port: 0,
    running,
    chats: 0,
    server: undefined as unknown as Server,
    async stop() {
      if (!host.server.listening) return;
      await closeServer(host.server);
    },
    async start() {
      host.server = createServer((request, response) => {
        const path = (request.url ?? '/').split('?')[0];
        if (path === '/health') return json(response, { status: 'ok' });
        if (path === '/v1/queue/stats') {
          return json(response, {
            status: 'ok',
            queue_stats: { queue_stats: { running: host.running, queue_size: 0, max_concurrency: 4 } },
          });
        }
        if (path === '/v1/models') {
          return json(response, {
            object: 'list',
            data: [{ id: 'qwen', object: 'model', created: 1, owned_by: 'me' }],
          });
        }
        request.resume();
        request.on('end', () => {
          host.chats++;
          json(response, {
            id: 'chatcmpl-1',
            object: 'chat.completion',
            created: 1,
            model: 'qwen',
            choices: [{ index: 0, message: { role: 'assistant', content: name }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
          });
        });
      });
      await new Promise<void>((resolve) => host.server.listen(host.port, '127.0.0.1', resolve));
      host.port = (host.server.address() as AddressInfo).port;
    },
  };
  await host.start();
  hosts.push(host);
  return host;
}

const ask = { model: 'qwen', messages: [{ role: 'user' as const, content: 'hi' }] };
const callOptions = () => ({ signal: new AbortController().signal, requestId: 'req_test' });

describe('createOpenAICompatibleFleet', () => {
  it('serves the hosts as one model, least busy first; a host that stops leaves and rejoins', async () => {
    const [busy, idle, spare] = [
      await stubHost('busy', 3),
      await stubHost('idle', 0),
      await stubHost('spare', 1),
    ];
    const fleet = createOpenAICompatibleFleet({
      id: 'lab',
      flavor: 'mlx-openai-server',
      baseURLs: [busy, idle, spare].map((host) => `http://127.0.0.1:${host.port}/v1`),
    });
    try {
      // One model; its concurrency is the sum of the hosts' max_concurrency (4 each).
      expect((await fleet.models()).map((model) => [model.id, model.concurrency])).toEqual([['qwen', 12]]);
      expect(await fleet.health()).toMatchObject({ status: 'ready', running: 4 });
      const answer = async () =>
        (await fleet.doChat(ask, callOptions())).choices[0]!.message.content as string;
      expect(await answer()).toBe('idle');
      expect(await answer()).toBe('idle');

      // The idle host goes down: the next call fails over at once, then the health check agrees.
      await idle.stop();
      expect(await answer()).toBe('spare');
      expect(await fleet.health()).toMatchObject({ status: 'ready', message: '2 of 3 hosts ready' });
      expect(fleet.hosts().map((host) => host.status)).toEqual(['ready', 'unhealthy', 'ready']);
      expect(await answer()).toBe('spare');

      // Back on its port: the next health check lets it in again.
      await idle.start();
      expect(await answer()).toBe('spare');
      await fleet.health();
      expect(fleet.hosts().map((host) => host.status)).toEqual(['ready', 'ready', 'ready']);
      expect(await answer()).toBe('idle');
      // The busiest host was never chosen while others had room.
      expect(busy.chats).toBe(0);

      // Every host down: 503 with Retry-After, not a hang.
      for (const host of [busy, idle, spare]) await host.stop();
      await fleet.health();
      await expect(fleet.doChat(ask, callOptions())).rejects.toMatchObject({ status: 503 });
    } finally {
      await fleet.close();
    }
  });
});
