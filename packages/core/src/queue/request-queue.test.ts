import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError } from '../errors/aborted-error.js';
import type { FusionError } from '../errors/fusion-error.js';
import { QueueFullError } from '../errors/queue-full-error.js';
import { RequestQueue } from './request-queue.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Lets pending promise callbacks run. */
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

describe('RequestQueue', () => {
  it('runs up to the per-model limit at once and queues the rest', async () => {
    const queue = new RequestQueue({ perModelConcurrency: 2 });
    const first = await queue.acquire('a');
    await queue.acquire('a');
    const third = track(queue.acquire('a'));
    await flush();
    expect(third.settled).toBe(false);
    expect(queue.stats().models.a).toMatchObject({ running: 2, waiting: 1, concurrency: 2 });
    first();
    await flush();
    expect(third.settled).toBe(true);
    expect(queue.stats().models.a).toMatchObject({ running: 2, waiting: 0, completed: 1 });
  });

  it('enforces the global limit across models', async () => {
    const queue = new RequestQueue({ concurrency: 2, perModelConcurrency: 5 });
    const releaseA = await queue.acquire('a');
    await queue.acquire('b');
    const third = track(queue.acquire('c'));
    await flush();
    expect(third.settled).toBe(false);
    expect(queue.stats()).toMatchObject({ running: 2, waiting: 1, concurrency: 2 });
    releaseA();
    await flush();
    expect(third.settled).toBe(true);
    expect(queue.stats().running).toBe(2);
  });

  it('grants waiting calls in arrival order', async () => {
    const queue = new RequestQueue({ concurrency: 1 });
    let release = await queue.acquire('a');
    const order: string[] = [];
    const waits = ['a', 'b', 'a', 'c', 'b'].map((model, index) =>
      queue.acquire(model).then((next) => {
        order.push(`${index}:${model}`);
        return next;
      }),
    );
    for (const wait of waits) {
      release();
      release = await wait;
    }
    release();
    expect(order).toEqual(['0:a', '1:b', '2:a', '3:c', '4:b']);
    expect(queue.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('tells a call that waited how long it waited and how many were ahead; a call that ran at once hears nothing', async () => {
    const queue = new RequestQueue({ perModelConcurrency: 1 });
    const heard: [number, number][] = [];
    const onWaited = (waitedMs: number, queued: number) => heard.push([waitedMs, queued]);
    const first = await queue.acquire('a', undefined, onWaited);
    const second = queue.acquire('a', undefined, onWaited);
    const third = queue.acquire('a', undefined, onWaited);
    await new Promise((resolve) => setTimeout(resolve, 30));
    first();
    (await second)();
    (await third)();
    expect(heard).toHaveLength(2);
    expect(heard.map(([, queued]) => queued)).toEqual([0, 1]);
    expect(heard[0]![0]).toBeGreaterThanOrEqual(20);
  });

  it('does not let a full model block a waiter of another model', async () => {
    const queue = new RequestQueue({ concurrency: 10, perModelConcurrency: 1 });
    await queue.acquire('busy');
    const blocked = track(queue.acquire('busy'));
    await flush();
    // A waiter of 'busy' is ahead in line, yet 'free' has room: it runs now.
    const free = track(queue.acquire('free'));
    await flush();
    expect(blocked.settled).toBe(false);
    expect(free.settled).toBe(true);
    expect(queue.stats()).toMatchObject({ running: 2, waiting: 1 });
  });

  it('runs a call of a free model at once even when the waiting line is full', async () => {
    const queue = new RequestQueue({ concurrency: 10, perModelConcurrency: 1, maxWaiting: 1 });
    await queue.acquire('busy');
    const blocked = queue.acquire('busy');
    // The line is full of a blocked model's waiter; 'free' need not wait, so it is not refused.
    await expect(queue.acquire('free')).resolves.toBeTypeOf('function');
    await expect(queue.acquire('busy')).rejects.toBeInstanceOf(QueueFullError);
    void blocked.catch(() => {});
  });

  it('refuses with a 429 QueueFullError when too many wait for a model', async () => {
    const queue = new RequestQueue({ perModelConcurrency: 1, perModelMaxWaiting: 1 });
    await queue.acquire('a');
    const waiting = queue.acquire('a');
    const error = await queue.acquire('a').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueueFullError);
    const full = error as FusionError;
    expect(full.status).toBe(429);
    expect(full.code).toBe('queue_full');
    expect(full.retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(full.isRetryable).toBe(true);
    expect(queue.stats().models.a).toMatchObject({ waiting: 1, rejected: 1 });
    void waiting.catch(() => {});
  });

  it('refuses when the global waiting line is full', async () => {
    const queue = new RequestQueue({ concurrency: 1, maxWaiting: 1 });
    await queue.acquire('a');
    const waiting = queue.acquire('b');
    await expect(queue.acquire('c')).rejects.toMatchObject({ status: 429, code: 'queue_full' });
    expect(queue.stats().models.c?.rejected).toBe(1);
    void waiting.catch(() => {});
  });

  it('refuses with 429 after waiting too long, and leaves the line', async () => {
    vi.useFakeTimers();
    const queue = new RequestQueue({ perModelConcurrency: 1, waitTimeoutMs: 500 });
    await queue.acquire('a');
    const waiting = queue.acquire('a');
    const outcome = waiting.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(499);
    expect(queue.stats().waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const error = (await outcome) as FusionError;
    expect(error).toBeInstanceOf(QueueFullError);
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(queue.stats()).toMatchObject({ waiting: 0 });
    expect(queue.stats().models.a).toMatchObject({ waiting: 0, rejected: 1, running: 1 });
  });

  it('takes an aborted waiter out of the line at once and rejects with AbortedError', async () => {
    const queue = new RequestQueue({ perModelConcurrency: 1 });
    const release = await queue.acquire('a');
    const controller = new AbortController();
    const waiting = queue.acquire('a', controller.signal);
    const next = track(queue.acquire('a'));
    expect(queue.stats().waiting).toBe(2);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    expect(queue.stats().waiting).toBe(1);
    expect(queue.stats().models.a?.waiting).toBe(1);
    // The slot goes to the next waiter, not to the aborted one.
    release();
    await flush();
    expect(next.settled).toBe(true);
    expect(queue.stats()).toMatchObject({ running: 1, waiting: 0 });
  });

  it('rejects at once when the signal is already aborted', async () => {
    const queue = new RequestQueue();
    const controller = new AbortController();
    controller.abort();
    await expect(queue.acquire('a', controller.signal)).rejects.toBeInstanceOf(AbortedError);
    expect(queue.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('keeps a FusionError abort reason', async () => {
    const queue = new RequestQueue({ perModelConcurrency: 1 });
    await queue.acquire('a');
    const controller = new AbortController();
    const waiting = queue.acquire('a', controller.signal);
    const reason = new QueueFullError('custom');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it('release is idempotent', async () => {
    const queue = new RequestQueue({ perModelConcurrency: 1 });
    const release = await queue.acquire('a');
    release();
    release();
    expect(queue.stats()).toMatchObject({ running: 0 });
    expect(queue.stats().models.a).toMatchObject({ running: 0, completed: 1 });
    // A double release must not free a slot someone else holds.
    const second = await queue.acquire('a');
    release();
    const third = track(queue.acquire('a'));
    await flush();
    expect(third.settled).toBe(false);
    second();
    await flush();
    expect(third.settled).toBe(true);
  });

  it('counts completed, rejected and average hold and wait times', async () => {
    vi.useFakeTimers();
    const queue = new RequestQueue({ perModelConcurrency: 1, perModelMaxWaiting: 1 });
    const release = await queue.acquire('a');
    const waiting = queue.acquire('a');
    await expect(queue.acquire('a')).rejects.toBeInstanceOf(QueueFullError);
    await vi.advanceTimersByTimeAsync(100);
    release();
    const second = await waiting;
    await vi.advanceTimersByTimeAsync(50);
    second();
    const stats = queue.stats().models.a!;
    expect(stats).toMatchObject({ running: 0, waiting: 0, completed: 2, rejected: 1, maxWaiting: 1 });
    expect(stats.averageHoldMs).toBeGreaterThan(0);
    expect(stats.averageWaitMs).toBeGreaterThan(0);
    expect(queue.load('a')).toEqual({ running: 0, waiting: 0 });
    expect(queue.load('unknown')).toEqual({ running: 0, waiting: 0 });
  });

  it('setModelConcurrency raises and lowers one model’s limit', async () => {
    const queue = new RequestQueue({ perModelConcurrency: 1, models: { fixed: 3 } });
    await queue.acquire('a');
    const waiting = track(queue.acquire('a'));
    await flush();
    expect(waiting.settled).toBe(false);
    queue.setModelConcurrency('a', 2);
    await flush();
    // Raising the limit grants the waiter without a release.
    expect(waiting.settled).toBe(true);
    expect(queue.stats().models.a?.concurrency).toBe(2);

    queue.setModelConcurrency('b', 1);
    await queue.acquire('b');
    const blocked = track(queue.acquire('b'));
    await flush();
    expect(blocked.settled).toBe(false);

    await Promise.all([queue.acquire('fixed'), queue.acquire('fixed'), queue.acquire('fixed')]);
    expect(queue.stats().models.fixed).toMatchObject({ running: 3, concurrency: 3 });
  });

  it('reports global stats', async () => {
    const queue = new RequestQueue({ concurrency: 7, maxWaiting: 9 });
    expect(queue.stats()).toEqual({ running: 0, waiting: 0, concurrency: 7, maxWaiting: 9, models: {} });
  });

  it('defaults every model to the global limit: no lower per-model line of its own', async () => {
    const queue = new RequestQueue({ concurrency: 300 });
    await Promise.all(Array.from({ length: 300 }, () => queue.acquire('a')));
    expect(queue.stats().models.a).toMatchObject({ running: 300, waiting: 0, concurrency: 300 });
    expect(new RequestQueue().stats().concurrency).toBe(10_000);
  });

  it('limits a model to the concurrency it reports, and follows it when it changes', async () => {
    const reported = new Map<string, number | undefined>([['upstream/small', 1]]);
    const queue = new RequestQueue(
      { perModelConcurrency: 8, models: { 'upstream/pinned': 2 } },
      { concurrencyOf: (model) => reported.get(model) },
    );
    await queue.acquire('upstream/small');
    const waiting = track(queue.acquire('upstream/small'));
    await flush();
    expect(waiting.settled).toBe(false);
    expect(queue.stats().models['upstream/small']).toMatchObject({ running: 1, waiting: 1, concurrency: 1 });

    // The upstream now says 2: the next look at the model lets the waiter in.
    reported.set('upstream/small', 2);
    await queue.acquire('other');
    expect(track(queue.acquire('upstream/small')).settled).toBe(false);
    await flush();
    expect(waiting.settled).toBe(true);

    // Configured limits win over reported ones; nonsense reports are ignored.
    reported.set('upstream/pinned', 50);
    reported.set('upstream/odd', 0);
    await queue.acquire('upstream/pinned');
    await queue.acquire('upstream/odd');
    expect(queue.stats().models['upstream/pinned']?.concurrency).toBe(2);
    expect(queue.stats().models['upstream/odd']?.concurrency).toBe(8);
  });
});
