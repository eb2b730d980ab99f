import { SharedJobRunner } from '@fusionkit/cli';
import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestRedis, type TestRedis } from '../support/redis.js';

/** Jobs on the real Redis whose enqueue fails, or never happens (the instance died in between). */
describe('SharedJobRunner: a job is never left queued outside the queue', () => {
  let redis: TestRedis;
  const runners: SharedJobRunner[] = [];

  beforeEach(async () => {
    redis = await startTestRedis();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(runners.splice(0).map((runner) => runner.close()));
    await redis.close();
  });

  function runner(): SharedJobRunner {
    const created = new SharedJobRunner({ url: redis.url, prefix: redis.prefix, lockMs: 2000 });
    created.define<{ text: string }, string>('echo', { run: async (input) => input.text.toUpperCase() });
    runners.push(created);
    return created;
  }

  it('undoes a create whose enqueue failed: 503, nothing listed, and a retry with its key runs', async () => {
    const jobs = runner();
    await jobs.restore();
    vi.spyOn(Queue.prototype, 'add').mockRejectedValueOnce(new Error('Connection is closed.'));
    const failed = jobs.create({ kind: 'echo', input: { text: 'hi' }, idempotencyKey: 'nightly' });
    await expect(failed).rejects.toMatchObject({ status: 503, code: 'job_not_queued' });
    expect((await jobs.page()).data).toEqual([]);

    const retried = await jobs.create({ kind: 'echo', input: { text: 'hi' }, idempotencyKey: 'nightly' });
    await vi.waitFor(async () => expect((await jobs.get(retried.id))?.status).toBe('succeeded'), {
      timeout: 15_000,
      interval: 50,
    });
    expect((await jobs.get(retried.id))?.result).toBe('HI');
    expect((await jobs.page()).data.map((job) => job.id)).toEqual([retried.id]);
  });

  it('puts back in the queue, on restore, a job written but never enqueued', async () => {
    const first = runner();
    await first.restore();
    // The instance "dies" between writing the record and enqueueing it.
    vi.spyOn(Queue.prototype, 'add').mockResolvedValueOnce(undefined as never);
    const orphan = await first.create({ kind: 'echo', input: { text: 'orphan' } });
    vi.restoreAllMocks();
    await first.close();
    runners.length = 0;

    const second = runner();
    await second.restore();
    await vi.waitFor(async () => expect((await second.get(orphan.id))?.status).toBe('succeeded'), {
      timeout: 15_000,
      interval: 50,
    });
    expect((await second.get(orphan.id))?.result).toBe('ORPHAN');
    expect((await second.get(orphan.id))?.attempts).toBe(1);
  });
});
