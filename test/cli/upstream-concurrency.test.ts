import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HELD_MODEL, type HeldUpstream, startHeldUpstream } from '../support/held-upstream.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

/**
 * One queue: a request `fusion serve` cannot send upstream yet waits in the orchestrator's queue,
 * where `/v1/queue/stats` counts it and `maxWaiting` bounds it, never unseen in a connection pool.
 */
const MODEL = `lab/${HELD_MODEL}`;
let upstream: HeldUpstream | undefined;
let cli: RunningCli | undefined;
let cwd: string | undefined;

afterEach(async () => {
  upstream?.releaseAll();
  await cli?.stop('SIGKILL');
  await upstream?.close();
  if (cwd) await rm(cwd, { recursive: true, force: true });
  upstream = cli = cwd = undefined;
});

async function serveWithConfig(config: object): Promise<RunningCli> {
  cwd = await mkdtemp(join(tmpdir(), 'fusion-concurrency-'));
  await writeFile(join(cwd, 'fusion.config.json'), JSON.stringify({ mcp: false, ...config }));
  return spawnCli(['serve'], {}, cwd);
}

function stream(url: string): Promise<{ status: number; text: string; retryAfter: string | null }> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
  }).then(async (response) => ({
    status: response.status,
    text: await response.text(),
    retryAfter: response.headers.get('retry-after'),
  }));
}

interface ModelStats {
  running: number;
  waiting: number;
  concurrency: number;
}

async function queueStats(url: string): Promise<{ queue_size: number; model?: ModelStats }> {
  const body = (await (await fetch(`${url}/v1/queue/stats`)).json()) as {
    queue_stats: { queue_stats: { queue_size: number }; models: Record<string, ModelStats> };
  };
  return { queue_size: body.queue_stats.queue_stats.queue_size, model: body.queue_stats.models[MODEL] };
}

/** Two run upstream, three wait where the stats see them, the sixth gets 429; then all finish. */
async function expectTwoRunThreeWaitOneRefused(url: string, held: HeldUpstream): Promise<void> {
  const answers = Array.from({ length: 5 }, () => stream(url));
  await vi.waitFor(
    async () => {
      expect(held.inFlight()).toBe(2);
      expect(await queueStats(url)).toEqual({
        queue_size: 3,
        model: expect.objectContaining({ running: 2, waiting: 3, concurrency: 2 }),
      });
    },
    { timeout: 10_000, interval: 50 },
  );

  const refused = await stream(url);
  expect(refused.status).toBe(429);
  expect(refused.retryAfter).toMatch(/^\d+$/);
  expect(JSON.parse(refused.text)).toMatchObject({
    error: { code: 'queue_full', message: expect.any(String) },
  });

  held.releaseAll();
  const done = await Promise.all(answers);
  expect(done.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
  for (const answer of done) expect(answer.text).toContain('data: [DONE]');
  expect(held.peak()).toBe(2);
}

describe('fusion serve: the orchestrator queue is the only waiting line', () => {
  it("sizes a model to an mlx-openai-server's max_concurrency and queues the rest, visibly and bounded", async () => {
    upstream = await startHeldUpstream({ maxConcurrency: 2 });
    cli = await serveWithConfig({ upstreams: { lab: upstream.baseURL }, queue: { maxWaiting: 3 } });
    await expectTwoRunThreeWaitOneRefused(cli.url, upstream);
  });

  it('caps a model at the maxSockets of its upstream (object form), so no call waits for a socket', async () => {
    upstream = await startHeldUpstream();
    cli = await serveWithConfig({
      upstreams: { lab: { baseURL: upstream.baseURL, maxSockets: 2, flavor: 'mlx-openai-server' } },
      queue: { maxWaiting: 3 },
    });
    await expectTwoRunThreeWaitOneRefused(cli.url, upstream);
  });

  it('sends every stream upstream at once with the defaults, past the 64 sockets that used to hide a queue', async () => {
    upstream = await startHeldUpstream();
    cli = await serveWithConfig({ upstreams: { lab: upstream.baseURL } });
    const calls = 100;
    const answers = Array.from({ length: calls }, () => stream(cli!.url));
    await vi.waitFor(() => expect(upstream!.inFlight()).toBe(calls), { timeout: 10_000, interval: 50 });
    expect(await queueStats(cli.url)).toMatchObject({ queue_size: 0, model: { running: calls, waiting: 0 } });
    upstream.releaseAll();
    expect((await Promise.all(answers)).every((answer) => answer.status === 200)).toBe(true);
  });

  it('refuses a mistyped upstream option, naming the key', async () => {
    await expect(
      serveWithConfig({ upstreams: { lab: { baseURL: 'http://127.0.0.1:1/v1', maxSocket: 2 } } }),
    ).rejects.toThrow(
      /exited with 2[\s\S]*upstreams\.lab\.maxSocket: unknown key; did you mean 'maxSockets'\?/,
    );
  });
});
