import { describe, expect, it } from 'vitest';
import type { KeyvLike } from '../state/keyv-like.js';
import type { JobContext } from './job.js';
import { JobRunner } from './job-runner.js';

/** A store that keeps JSON text, as SQLite or Redis would: nothing is shared by reference. */
function jsonStore(): KeyvLike<unknown> & { keys(): string[] } {
  const values = new Map<string, string>();
  return {
    async get(key) {
      const text = values.get(key);
      return text === undefined ? undefined : JSON.parse(text);
    },
    async set(key, value) {
      values.set(key, JSON.stringify(value));
    },
    async delete(key) {
      return values.delete(key);
    },
    keys: () => [...values.keys()],
  };
}

/** A job kind that counts to `input.to`, one checkpoint per step, and waits at `input.pauseAt`. */
function counting(log: string[], pause?: Promise<void>) {
  return {
    validate(input: unknown) {
      const to = (input as { to?: unknown } | undefined)?.to;
      if (typeof to !== 'number') throw new TypeError('to must be a number');
      return input as { to: number; pauseAt?: number };
    },
    async run(input: { to: number; pauseAt?: number }, context: JobContext) {
      let done = (context.saved as { done: number } | undefined)?.done ?? 0;
      while (done < input.to) {
        if (done === input.pauseAt && context.attempt === 1) {
          const { signal } = context;
          signal.throwIfAborted();
          await Promise.race([pause, new Promise((resolve) => signal.addEventListener('abort', resolve))]);
        }
        context.signal.throwIfAborted();
        done++;
        log.push(`step ${done} (attempt ${context.attempt})`);
        await context.checkpoint({ done });
        context.progress({ done, total: input.to });
      }
      return { counted: done };
    },
  };
}

describe('JobRunner with a store', () => {
  it('resumes an unfinished job after a crash from its last checkpoint, and finishes it once', async () => {
    const store = jsonStore();
    const log: string[] = [];
    const first = new JobRunner({ store });
    // The first process stops at step 2 for good, as if killed there.
    first.define('count', counting(log, new Promise(() => {})));
    await first.restore();
    const job = first.create({ kind: 'count', input: { to: 4, pauseAt: 2 } });
    await expect.poll(() => log.length).toBe(2);
    await first.flush();

    const finished: string[] = [];
    const second = new JobRunner({ store });
    second.define('count', counting(log));
    second.subscribe((snapshot) => {
      if (snapshot.status === 'succeeded') finished.push(snapshot.id);
    });
    await second.restore();
    const done = await second.wait(job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, result: { counted: 4 } });
    expect(log).toEqual([
      'step 1 (attempt 1)',
      'step 2 (attempt 1)',
      'step 3 (attempt 2)',
      'step 4 (attempt 2)',
    ]);
    expect(finished).toEqual([job.id]);

    // A third start finds it finished and runs nothing.
    await second.flush();
    const third = new JobRunner({ store });
    third.define('count', counting(log));
    await third.restore();
    expect(third.get(job.id)).toMatchObject({ status: 'succeeded', result: { counted: 4 } });
    expect(third.active).toEqual({ queued: 0, running: 0 });
    expect(log).toHaveLength(4);
  });

  it('leaves resumable jobs unfinished on close, and fails jobs of a function that cannot resume', async () => {
    const store = jsonStore();
    const log: string[] = [];
    const first = new JobRunner({ store, concurrency: 2 });
    first.define('count', counting(log, new Promise(() => {})));
    const resumable = first.create({ kind: 'count', input: { to: 2, pauseAt: 0 } });
    const closure = first.create({
      kind: 'closure',
      run: ({ signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    await first.flush();
    // A crash: the second process starts while the first never finished anything.
    const second = new JobRunner({ store });
    second.define('count', counting(log));
    await second.restore();
    expect(second.get(closure.id)).toMatchObject({ status: 'failed', error: { code: 'job_interrupted' } });
    expect(await second.wait(resumable.id)).toMatchObject({ status: 'succeeded' });
    await second.close();
    await first.close();
  });

  it('queues restored jobs of a kind defined after restore() once it is defined', async () => {
    const store = jsonStore();
    const first = new JobRunner({ store });
    first.define('count', counting([], new Promise(() => {})));
    const job = first.create({ kind: 'count', input: { to: 2, pauseAt: 0 } });
    await first.flush();

    const second = new JobRunner({ store });
    await Promise.all([second.restore(), second.restore()]);
    expect(second.get(job.id)?.status).toBe('queued');
    second.define('count', counting([]));
    expect(await second.wait(job.id)).toMatchObject({ status: 'succeeded', result: { counted: 2 } });
    await first.close();
  });

  it('keeps a graceful close resumable', async () => {
    const store = jsonStore();
    const log: string[] = [];
    const first = new JobRunner({ store });
    first.define('count', counting(log, new Promise(() => {})));
    const job = first.create({ kind: 'count', input: { to: 3, pauseAt: 1 } });
    await expect.poll(() => log.length).toBe(1);
    await first.close();
    expect(first.get(job.id)?.status).toBe('running');

    const second = new JobRunner({ store });
    second.define('count', counting(log));
    await second.restore();
    expect(await second.wait(job.id)).toMatchObject({ status: 'succeeded', result: { counted: 3 } });
    expect(log).toHaveLength(3);
  });

  it('returns the first job for a repeated idempotency key, also after a restart', async () => {
    const store = jsonStore();
    const first = new JobRunner({ store });
    first.define('count', counting([]));
    const job = first.create({ kind: 'count', input: { to: 1 }, idempotencyKey: 'nightly-1' });
    expect(first.create({ kind: 'count', input: { to: 1 }, idempotencyKey: 'nightly-1' }).id).toBe(job.id);
    await first.wait(job.id);
    await first.flush();
    const second = new JobRunner({ store });
    second.define('count', counting([]));
    await second.restore();
    expect(second.create({ kind: 'count', input: { to: 1 }, idempotencyKey: 'nightly-1' }).id).toBe(job.id);
    expect(second.list()).toHaveLength(1);
  });

  it('forgets finished jobs in the store too', async () => {
    let now = 1_000_000;
    const store = jsonStore();
    const jobs = new JobRunner({ store, ttlMs: 1000, now: () => now });
    jobs.define('count', counting([]));
    const job = jobs.create({ kind: 'count', input: { to: 1 } });
    await jobs.wait(job.id);
    await jobs.flush();
    expect(store.keys()).toContain(`jobs:${job.id}`);
    now += 1000;
    expect(jobs.list()).toEqual([]);
    await jobs.flush();
    expect(store.keys()).not.toContain(`jobs:${job.id}`);
    expect(await store.get('jobs:index')).toEqual([]);
  });
});

describe('JobRunner kinds and pages', () => {
  it('refuses unknown kinds and input the kind rejects', () => {
    const jobs = new JobRunner();
    jobs.define('count', counting([]));
    expect(() => jobs.create({ kind: 'nope', input: {} })).toThrow(
      expect.objectContaining({ status: 400, code: 'unknown_job_kind', param: 'kind' }),
    );
    expect(() => jobs.create({ kind: 'count', input: {} })).toThrow('to must be a number');
  });

  it('pages newest first with after and has_more', async () => {
    const jobs = new JobRunner();
    jobs.define('count', counting([]));
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) ids.push(jobs.create({ kind: 'count', input: { to: 0 } }).id);
    ids.reverse();
    const first = jobs.page({ limit: 2 });
    expect(first).toMatchObject({ object: 'list', has_more: true, first_id: ids[0], last_id: ids[1] });
    const second = jobs.page({ limit: 2, after: first.last_id! });
    expect(second.data.map((job) => job.id)).toEqual([ids[2], ids[3]]);
    expect(jobs.page({ limit: 2, after: second.last_id! })).toMatchObject({
      has_more: false,
      last_id: ids[4],
    });
    expect(() => jobs.page({ after: 'job_gone' })).toThrow(expect.objectContaining({ status: 400 }));
    await jobs.close();
  });
});
