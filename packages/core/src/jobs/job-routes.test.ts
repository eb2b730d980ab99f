import { afterEach, describe, expect, it } from 'vitest';
import { createFusion, type Fusion } from '../fusion/fusion.js';
import { jobRoutes } from './job-routes.js';
import { JobRunner } from './job-runner.js';

let fusion: Fusion | undefined;
afterEach(async () => {
  await fusion?.close({ timeoutMs: 0 });
  fusion = undefined;
});

describe('jobRoutes', () => {
  it('serves GET /api/jobs, GET and DELETE /api/jobs/:id through a plugin', async () => {
    const jobs = new JobRunner();
    fusion = createFusion({
      healthIntervalMs: 0,
      plugins: [
        {
          specificationVersion: 'v1',
          name: 'jobs',
          setup(api) {
            for (const [method, path, handler] of jobRoutes(jobs)) api.route(method, path, handler);
          },
        },
      ],
    });
    const done = jobs.create({ kind: 'quick', run: async () => ({ answer: 42 }) });
    await jobs.wait(done.id);
    const long = jobs.create({
      kind: 'long',
      run: ({ signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });

    const one = await fusion.handle(new Request(`http://localhost/api/jobs/${done.id}`));
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id: done.id, status: 'succeeded', result: { answer: 42 } });

    const listed = (await (await fusion.handle(new Request('http://localhost/api/jobs'))).json()) as {
      data: Record<string, unknown>[];
    };
    expect(listed.data.map((job) => job.id)).toEqual([long.id, done.id]);
    expect(listed.data[1]).not.toHaveProperty('result');

    const cancelled = await fusion.handle(
      new Request(`http://localhost/api/jobs/${long.id}`, { method: 'DELETE' }),
    );
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ id: long.id, status: 'cancelled' });

    const missing = await fusion.handle(new Request('http://localhost/api/jobs/job_nope'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: expect.objectContaining({ code: 'job_not_found', param: 'id', type: 'not_found_error' }),
    });
    const missingDelete = await fusion.handle(
      new Request('http://localhost/api/jobs/job_nope', { method: 'DELETE' }),
    );
    expect(missingDelete.status).toBe(404);
    await jobs.close();
  });
});
