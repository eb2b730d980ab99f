import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestRedis, type TestRedis } from '../../../../test/support/redis.js';
import type { CliContext } from '../commands/cli-context.js';
import { resolveConfig } from '../config/resolve-config.js';
import { openServeState } from './serve-state.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The jobs of `fusion serve`'s state for this environment and config, with a kind that waits. */
async function jobsOf(env: Record<string, string>, config: Record<string, unknown> = {}) {
  const cwd = await mkdtemp(join(tmpdir(), 'fusion-serve-state-'));
  cleanups.push(() => rm(cwd, { recursive: true, force: true }));
  const context: CliContext = { cwd, env, out: () => {}, log: () => {} };
  const resolved = await resolveConfig({ cwd, env });
  const state = await openServeState(context, { ...resolved, ...config });
  cleanups.push(async () => {
    for (const plugin of [...state.plugins].reverse()) await plugin.teardown?.();
    await state.jobs.close();
  });
  let running = 0;
  let peak = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  // Opened before the runner closes, so that a failed test does not hold its jobs.
  cleanups.push(async () => release());
  state.jobs.define('gated', {
    run: async () => {
      running++;
      peak = Math.max(peak, running);
      await gate;
      running--;
      return 'done';
    },
  });
  await state.jobs.restore();
  return { jobs: state.jobs, running: () => running, peak: () => peak, release };
}

describe('jobs concurrency of fusion serve', () => {
  let redis: TestRedis | undefined;
  afterEach(async () => {
    await redis?.close();
    redis = undefined;
  });

  it.each([
    ['FUSION_JOBS_CONCURRENCY on the shared runner (Redis)', 'redis', {}],
    ['jobs.concurrency on the shared runner (Redis)', 'redis', { jobs: { concurrency: 3 } }],
    ['jobs.concurrency on the local runner', 'memory', { jobs: { concurrency: 3 } }],
  ] as const)('%s runs that many jobs at once', async (_name, store, config) => {
    let env: Record<string, string> = { FUSION_STATE: 'memory' };
    if (store === 'redis') {
      redis = await startTestRedis();
      env = { FUSION_REDIS_URL: redis.url, FUSION_REDIS_PREFIX: redis.prefix };
      if (!('jobs' in config)) env.FUSION_JOBS_CONCURRENCY = '3';
    }
    const { jobs, running, peak, release } = await jobsOf(env, config);
    const created = await Promise.all([1, 2, 3, 4].map(() => jobs.create({ kind: 'gated', input: {} })));
    // Three run together (none ends before the gate opens); the fourth waits for a free slot.
    await vi.waitFor(() => expect(running()).toBe(3), { timeout: 15_000, interval: 20 });
    expect(
      (await Promise.all(created.map((job) => jobs.get(job.id)))).filter((job) => job?.status === 'queued'),
    ).toHaveLength(1);
    release();
    await vi.waitFor(
      async () => {
        for (const job of created) expect((await jobs.get(job.id))?.status).toBe('succeeded');
      },
      { timeout: 15_000, interval: 50 },
    );
    expect(peak()).toBe(3);
  });

  it('runs one job at a time by default', async () => {
    const { jobs, running, peak, release } = await jobsOf({ FUSION_STATE: 'memory' });
    const created = await Promise.all([1, 2].map(() => jobs.create({ kind: 'gated', input: {} })));
    await vi.waitFor(() => expect(running()).toBe(1), { timeout: 15_000, interval: 20 });
    expect((await jobs.get(created[1]!.id))?.status).toBe('queued');
    release();
    await vi.waitFor(async () => expect((await jobs.get(created[1]!.id))?.status).toBe('succeeded'), {
      timeout: 15_000,
      interval: 50,
    });
    expect(peak()).toBe(1);
  });
});
