/**
 * Two `fusion serve` instances sharing one Redis share their jobs: either reads, lists and cancels
 * the other's; when the instance running a job is killed with SIGKILL, the other takes the job over
 * once its lease runs out and finishes it exactly once (each answered request asked once, one
 * webhook).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COUNTING_MODEL,
  type CountingUpstream,
  startCountingUpstream,
} from '../support/counting-upstream.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

type Json = Record<string, unknown>;

describe('two fusion serve instances sharing Redis', { timeout: 120_000 }, () => {
  let upstream: CountingUpstream;
  let redis: TestRedis;
  let cwd: string;
  let hooks: Server;
  let hooksURL: string;
  const deliveries: string[] = [];
  const running: RunningCli[] = [];

  const start = async () => {
    const cli = await spawnCli(
      ['serve'],
      {
        FUSION_UPSTREAMS: `lab=${upstream.baseURL}`,
        FUSION_STATE: '',
        FUSION_REDIS_URL: redis.url,
        FUSION_REDIS_PREFIX: redis.prefix,
        FUSION_JOBS_LEASE_MS: '2000',
        FUSION_WEBHOOKS_ALLOW_PRIVATE: 'true',
      },
      cwd,
    );
    running.push(cli);
    return cli;
  };
  const call = async (cli: RunningCli, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${cli.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const ask = (content: string) => ({
    model: `lab/${COUNTING_MODEL}`,
    messages: [{ role: 'user', content }],
  });

  beforeAll(async () => {
    upstream = await startCountingUpstream();
    redis = await startTestRedis();
    cwd = mkdtempSync(join(tmpdir(), 'fusion-shared-jobs-'));
    hooks = createServer((request, response) => {
      let body = '';
      request.on('data', (part) => (body += part));
      request.on('end', () => {
        deliveries.push(body);
        response.end();
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    hooksURL = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/jobs`;
  });

  afterAll(async () => {
    for (const cli of running) await cli.stop('SIGKILL');
    await upstream?.close();
    await redis?.close();
    hooks?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('lists, reads and cancels the jobs of either instance from the other', async () => {
    const [left, right] = [await start(), await start()];
    await expect
      .poll(async () => ((await call(left, 'GET', '/v1/models')).body.data as Json[]).length, {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    const first = await call(left, 'POST', '/v1/jobs', {
      kind: 'chat.batch',
      input: { requests: [ask('six')] },
    });
    await expect
      .poll(async () => (await call(right, 'GET', `/v1/jobs/${first.body.id}`)).body.status, {
        timeout: 15_000,
      })
      .toBe('succeeded');
    const created = await call(left, 'POST', '/v1/jobs', {
      kind: 'chat.batch',
      input: { requests: ['hold', 'five'].map(ask) },
    });
    const id = created.body.id as string;
    // Held at the upstream on whichever instance took it: cancelled from the other one.
    await expect.poll(() => upstream.counts.hold ?? 0, { timeout: 15_000 }).toBe(1);
    const cancelled = await call(right, 'POST', `/v1/jobs/${id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { id, status: 'cancelled' } });
    const listed = (await call(left, 'GET', '/v1/jobs?limit=1')).body;
    expect(listed).toMatchObject({ object: 'list', first_id: id, has_more: true });
    const next = (await call(right, 'GET', `/v1/jobs?limit=1&after=${id}`)).body;
    expect((next.data as Json[]).map((job) => job.status)).toEqual(['succeeded']);
    expect((await call(right, 'GET', '/v1/jobs/job_missing')).status).toBe(404);
    expect((await call(right, 'GET', '/v1/jobs?after=job_missing')).status).toBe(400);
    // The cancelled job never finishes afterwards.
    for (const cli of running.splice(0)) await cli.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const later = await start();
    expect((await call(later, 'GET', `/v1/jobs/${id}`)).body.status).toBe('cancelled');
    await later.stop('SIGTERM');
    expect(upstream.counts.five).toBeUndefined();
  });
  it('the other instance finishes, exactly once, the job of an instance killed with SIGKILL', async () => {
    const first = await start();
    await expect
      .poll(async () => ((await call(first, 'GET', '/v1/models')).body.data as Json[]).length, {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    const created = await call(first, 'POST', '/v1/jobs', {
      kind: 'chat.batch',
      input: { requests: ['one', 'two', 'hold', 'four'].map(ask) },
      webhook: { url: hooksURL },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    // (The job cancelled above left one held request.)
    await expect.poll(() => upstream.counts.hold ?? 0, { timeout: 15_000 }).toBe(2);

    // The second instance sees the first one's job while it runs.
    const second = await start();
    expect((await call(second, 'GET', `/v1/jobs/${id}`)).body).toMatchObject({
      status: 'running',
      progress: { done: 2, total: 4 },
    });
    await first.stop('SIGKILL');
    upstream.release();

    await expect
      .poll(async () => (await call(second, 'GET', `/v1/jobs/${id}`)).body.status, { timeout: 30_000 })
      .toBe('succeeded');
    const done = (await call(second, 'GET', `/api/jobs/${id}`)).body;
    expect(done).toMatchObject({ attempts: 2, progress: { done: 4, total: 4 } });
    const answers = (done.result as { data: { response: { choices: { message: { content: string } }[] } }[] })
      .data;
    expect(answers.map((item) => item.response.choices[0]!.message.content)).toEqual([
      'answer: one',
      'answer: two',
      'answer: hold',
      'answer: four',
    ]);
    // Only the request cut off by the kill was asked twice.
    expect(upstream.counts).toEqual({ six: 1, one: 1, two: 1, hold: 3, four: 1 });
    await expect.poll(() => deliveries.length, { timeout: 15_000 }).toBe(1);
    expect(JSON.parse(deliveries[0]!)).toMatchObject({ id, status: 'succeeded' });
  });
});
