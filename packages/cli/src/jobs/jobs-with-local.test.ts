import { JobRunner } from '@fusionkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { jobsWithLocal } from './jobs-with-local.js';

const runners: JobRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((runner) => runner.close()));
});

function runner(): JobRunner {
  const created = new JobRunner();
  runners.push(created);
  return created;
}

describe('jobsWithLocal', () => {
  it('creates and lists on the shared runner, and finds and cancels jobs of either', async () => {
    const shared = runner();
    const local = runner();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hold = async (_input: unknown, context: { signal: AbortSignal }) => {
      await Promise.race([
        held,
        new Promise((_resolve, reject) =>
          context.signal.addEventListener('abort', () => reject(context.signal.reason), { once: true }),
        ),
      ]);
      return 'done';
    };
    local.define('rag.ingest', { run: hold });
    const jobs = jobsWithLocal(shared, local);
    jobs.define('work', { run: hold });
    expect(jobs.kinds).toEqual(['work']);

    const sharedJob = await jobs.create({ kind: 'work', input: {} });
    const localJob = local.create({ kind: 'rag.ingest', input: {}, owner: 'key-a' });
    expect(shared.get(sharedJob.id)).toBeDefined();
    expect((await jobs.page()).data.map((job) => job.id)).toEqual([sharedJob.id]);

    expect((await jobs.get(localJob.id, { owner: 'key-a' }))?.kind).toBe('rag.ingest');
    // Another key does not see the local job either.
    expect(await jobs.get(localJob.id, { owner: 'key-b' })).toBeUndefined();
    expect(await jobs.get('job_unknown')).toBeUndefined();

    expect((await jobs.cancel(localJob.id, { owner: 'key-a' }))?.status).toBe('cancelled');
    release();
    await jobs.flush();
  });
});
