import { describe, expect, it, vi } from 'vitest';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import type { JobContext, JobSnapshot } from './job.js';
import { JobRunner } from './job-runner.js';

/** A promise resolved from outside. */
function deferred<TValue = void>() {
  let resolve!: (value: TValue) => void;
  const promise = new Promise<TValue>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Resolves when the signal aborts, rejecting with its reason (as cancellable work does). */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

describe('JobRunner', () => {
  it('runs a job to its result, reporting progress on the way', async () => {
    const jobs = new JobRunner();
    const step = deferred();
    const seen: JobSnapshot[] = [];
    jobs.subscribe((snapshot) => seen.push(snapshot));
    const created = jobs.create({
      kind: 'count',
      total: 3,
      metadata: { collection: 'docs' },
      run: async ({ progress }) => {
        progress({ done: 1 });
        await step.promise;
        progress({ done: 3, detail: { chunks: 12 } });
        return { counted: 3 };
      },
    });
    expect(created).toMatchObject({ object: 'job', kind: 'count', status: 'running' });
    expect(created.id).toMatch(/^job_[0-9a-f]{32}$/);
    expect(jobs.get(created.id)).toMatchObject({ status: 'running', progress: { done: 1, total: 3 } });
    step.resolve();
    const done = await jobs.wait(created.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      progress: { done: 3, total: 3 },
      detail: { chunks: 12 },
      result: { counted: 3 },
      metadata: { collection: 'docs' },
    });
    expect(done!.finished_at).toBeGreaterThanOrEqual(done!.created_at);
    expect(done!.expires_at).toBeGreaterThan(done!.finished_at!);
    expect(seen.map((snapshot) => snapshot.status)).toEqual([
      'queued',
      'running',
      'running',
      'running',
      'succeeded',
    ]);
  });

  it('reports a failure in the OpenAI error shape', async () => {
    const jobs = new JobRunner();
    const job = jobs.create({
      kind: 'fail',
      run: async () => {
        throw new InvalidRequestError('bad path', { code: 'path_not_allowed', param: 'paths[0]' });
      },
    });
    expect(await jobs.wait(job.id)).toMatchObject({
      status: 'failed',
      error: {
        message: 'bad path',
        type: 'invalid_request_error',
        code: 'path_not_allowed',
        param: 'paths[0]',
      },
    });
    const crashed = jobs.create({
      kind: 'crash',
      run: async () => {
        throw new Error('secret internals');
      },
    });
    const snapshot = await jobs.wait(crashed.id);
    expect(snapshot?.error).toMatchObject({ code: 'internal_error' });
    expect(snapshot?.error?.message).not.toContain('secret');
  });

  it('runs `concurrency` jobs at a time, the others in order', async () => {
    const jobs = new JobRunner({ concurrency: 1 });
    const gate = deferred();
    const order: string[] = [];
    const first = jobs.create({
      kind: 'a',
      run: async () => {
        order.push('a');
        await gate.promise;
      },
    });
    const second = jobs.create({
      kind: 'b',
      run: async () => {
        order.push('b');
      },
    });
    expect(jobs.get(second.id)?.status).toBe('queued');
    expect(jobs.active).toEqual({ queued: 1, running: 1 });
    gate.resolve();
    await jobs.wait(second.id);
    expect(order).toEqual(['a', 'b']);
    expect(jobs.get(first.id)?.status).toBe('succeeded');
  });

  it('cancels a running job through its signal, and a queued one before it starts', async () => {
    const jobs = new JobRunner({ concurrency: 1 });
    let context: JobContext | undefined;
    const running = jobs.create({
      kind: 'long',
      run: async (given) => {
        context = given;
        given.progress({ done: 5, total: 100 });
        return untilAborted(given.signal);
      },
    });
    const queuedRun = vi.fn(async () => 'never');
    const queued = jobs.create({ kind: 'later', run: queuedRun });
    expect(jobs.cancel(queued.id)).toMatchObject({ status: 'cancelled' });
    const cancelled = jobs.cancel(running.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', progress: { done: 5, total: 100 } });
    expect(context!.signal.aborted).toBe(true);
    expect(context!.signal.reason).toMatchObject({ code: 'job_cancelled' });
    // Progress after the cancel changes nothing; the job stays cancelled.
    context!.progress({ done: 6 });
    await jobs.close();
    expect(jobs.get(running.id)).toMatchObject({ status: 'cancelled', progress: { done: 5 } });
    expect(queuedRun).not.toHaveBeenCalled();
    // Cancelling a finished job leaves it as it is.
    expect(jobs.cancel(running.id)?.status).toBe('cancelled');
    expect(jobs.cancel('job_unknown')).toBeUndefined();
  });

  it('forgets finished jobs after the TTL, and the oldest beyond maxFinished', async () => {
    let now = 1_000_000;
    const jobs = new JobRunner({ ttlMs: 60_000, maxFinished: 2, now: () => now });
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      const job = jobs.create({ kind: 'quick', run: async () => index });
      await jobs.wait(job.id);
      ids.push(job.id);
      now += 1000;
    }
    expect(jobs.get(ids[0]!)).toBeUndefined();
    expect(jobs.list().map((job) => job.id)).toEqual([ids[2], ids[1]]);
    now += 60_000;
    expect(jobs.get(ids[2]!)).toBeUndefined();
    expect(jobs.list()).toEqual([]);
  });

  it('refuses more queued jobs than maxQueued with 429', () => {
    const jobs = new JobRunner({ concurrency: 1, maxQueued: 1 });
    const forever = () => new Promise<never>(() => {});
    jobs.create({ kind: 'busy', run: forever });
    jobs.create({ kind: 'waiting', run: forever });
    expect(() => jobs.create({ kind: 'one too many', run: forever })).toThrow(
      expect.objectContaining({ status: 429, code: 'queue_full' }),
    );
  });

  it('POSTs the final state to the webhook, signed, retrying 5xx answers', async () => {
    const received: { url: string; headers: Headers; body: string }[] = [];
    const answers = [503, 200];
    const fetchMock = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      received.push({ url: String(url), headers: new Headers(init?.headers), body: String(init?.body) });
      return new Response(null, { status: answers.shift() ?? 200 });
    });
    const jobs = new JobRunner({ fetch: fetchMock as typeof fetch, webhookRetryDelayMs: 1 });
    const job = jobs.create({
      kind: 'hooked',
      run: async () => ({ ok: true }),
      webhook: { url: 'https://hooks.example/jobs', secret: 's3cret', headers: { 'x-team': 'docs' } },
    });
    await jobs.wait(job.id);
    await vi.waitFor(() => expect(jobs.get(job.id)?.webhook?.status).toBe('delivered'));
    expect(jobs.get(job.id)?.webhook).toEqual({
      url: 'https://hooks.example/jobs',
      status: 'delivered',
      attempts: 2,
      deliveries: [
        {
          attempt: 1,
          at: expect.any(Number),
          status_code: 503,
          error: 'HTTP 503',
          duration_ms: expect.any(Number),
        },
        { attempt: 2, at: expect.any(Number), status_code: 200, duration_ms: expect.any(Number) },
      ],
    });
    const last = received.at(-1)!;
    expect(last.url).toBe('https://hooks.example/jobs');
    expect(JSON.parse(last.body)).toMatchObject({ id: job.id, status: 'succeeded', result: { ok: true } });
    expect(last.headers.get('x-fusion-job-id')).toBe(job.id);
    expect(last.headers.get('x-team')).toBe('docs');
    const key = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode('s3cret'),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    const timestamp = last.headers.get('x-fusion-timestamp')!;
    const [, signedAt, hex] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(last.headers.get('x-fusion-signature')!)!;
    expect(signedAt).toBe(timestamp);
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(600);
    const mac = Uint8Array.from(hex!.match(/../g)!.map((byte) => Number.parseInt(byte, 16)));
    const signed = new TextEncoder().encode(`${timestamp}.${last.body}`);
    expect(await crypto.subtle.verify('HMAC', key, mac, signed)).toBe(true);
    // The body alone, or another time, does not verify.
    expect(await crypto.subtle.verify('HMAC', key, mac, new TextEncoder().encode(last.body))).toBe(false);
    // The secret never shows.
    expect(JSON.stringify(jobs.get(job.id))).not.toContain('s3cret');
  });

  it('gives up on a webhook that answers 4xx, and records why', async () => {
    const fetchMock = vi.fn(async () => new Response('nope', { status: 410 }));
    const jobs = new JobRunner({ fetch: fetchMock as typeof fetch, webhookRetryDelayMs: 1 });
    const job = jobs.create({
      kind: 'hooked',
      run: async () => 1,
      webhook: { url: 'https://hooks.example/gone' },
    });
    await jobs.wait(job.id);
    await vi.waitFor(() => expect(jobs.get(job.id)?.webhook?.status).toBe('failed'));
    expect(jobs.get(job.id)?.webhook).toMatchObject({ attempts: 1, error: 'HTTP 410' });
    await jobs.close();
  });

  it('refuses new jobs once closed', async () => {
    const jobs = new JobRunner();
    await jobs.close();
    expect(() => jobs.create({ kind: 'late', run: async () => 1 })).toThrow(/closed/);
  });
});
