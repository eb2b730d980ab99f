import { afterEach, describe, expect, it } from 'vitest';
import { createFusion, type Fusion } from '../fusion/fusion.js';
import { createMockProvider } from '../test/mock-provider.js';
import { JobRunner } from './job-runner.js';
import { jobsPlugin } from './jobs-plugin.js';

let fusion: Fusion | undefined;

afterEach(async () => {
  await fusion?.close({ timeoutMs: 0 });
  fusion = undefined;
});

type Json = Record<string, unknown>;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fusion!.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
  return { status: response.status, headers: response.headers, body: (await response.json()) as Json };
}

function start(jobs = new JobRunner()) {
  const mock = createMockProvider({
    id: 'mock',
    models: [{ id: 'echo', reply: (request) => `echo: ${String(request.messages.at(-1)?.content)}` }],
  });
  fusion = createFusion({ healthIntervalMs: 0, providers: [mock], plugins: [jobsPlugin({ jobs })] });
  return { jobs, mock };
}

const ask = (content: string) => ({ model: 'mock/echo', messages: [{ role: 'user', content }] });

describe('jobsPlugin', () => {
  it('runs a chat.batch job created with POST /v1/jobs, once per idempotency key', async () => {
    const { mock } = start();
    await fusion!.ready;
    const created = await call(
      'POST',
      '/v1/jobs',
      { kind: 'chat.batch', input: { requests: [ask('one'), ask('two')] }, metadata: { team: 'docs' } },
      { 'idempotency-key': 'batch-1' },
    );
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    expect(created.headers.get('location')).toBe(`/v1/jobs/${id}`);
    const again = await call(
      'POST',
      '/v1/jobs',
      { kind: 'chat.batch', input: { requests: [ask('x')] } },
      {
        'idempotency-key': 'batch-1',
      },
    );
    expect(again.body.id).toBe(id);

    await expect.poll(async () => (await call('GET', `/v1/jobs/${id}`)).body.status).toBe('succeeded');
    const done = await call('GET', `/api/jobs/${id}`);
    expect(done.body).toMatchObject({
      kind: 'chat.batch',
      progress: { done: 2, total: 2 },
      metadata: { team: 'docs' },
    });
    const data = (
      done.body.result as {
        data: { index: number; response: { choices: { message: { content: string } }[] } }[];
      }
    ).data;
    expect(data.map((item) => item.response.choices[0]!.message.content)).toEqual(['echo: one', 'echo: two']);
    expect(mock.calls).toHaveLength(2);

    const listed = await call('GET', '/v1/jobs?limit=1');
    expect(listed.body).toMatchObject({ object: 'list', first_id: id, has_more: false });
    expect((listed.body.data as Json[])[0]).not.toHaveProperty('result');
  });

  it('cancels with POST /v1/jobs/:id/cancel', async () => {
    const { jobs } = start();
    jobs.define('wait', {
      run: (_input, { signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    const created = await call('POST', '/v1/jobs', { kind: 'wait' });
    const cancelled = await call('POST', `/v1/jobs/${created.body.id}/cancel`);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
  });

  it('answers bad input with 4xx in the OpenAI error shape', async () => {
    start();
    const cases: [string, string, unknown, number, Json][] = [
      ['GET', '/v1/jobs/job_nope', undefined, 404, { code: 'job_not_found', param: 'id' }],
      ['POST', '/v1/jobs/job_nope/cancel', undefined, 404, { code: 'job_not_found' }],
      ['DELETE', '/api/jobs/job_nope', undefined, 404, { code: 'job_not_found' }],
      ['POST', '/v1/jobs', { kind: 'nope' }, 400, { code: 'unknown_job_kind', param: 'kind' }],
      ['POST', '/v1/jobs', { input: {} }, 400, { param: 'kind' }],
      ['POST', '/v1/jobs', [], 400, { code: 'invalid_request' }],
      ['POST', '/v1/jobs', { kind: 'chat.batch', input: { requests: [] } }, 400, { param: 'input.requests' }],
      [
        'POST',
        '/v1/jobs',
        { kind: 'chat.batch', input: { requests: [{ model: 'm' }] } },
        400,
        { param: expect.stringMatching(/^input\.requests\[0\]/) },
      ],
      [
        'POST',
        '/v1/jobs',
        { kind: 'chat.batch', input: { requests: [ask('a')] }, webhook: { url: 'ftp://x' } },
        400,
        { code: 'invalid_webhook_url', param: 'webhook.url' },
      ],
      [
        'POST',
        '/v1/jobs',
        { kind: 'chat.batch', input: { requests: [ask('a')] }, webhook: { url: 'not a url' } },
        400,
        { code: 'invalid_webhook_url' },
      ],
      ['GET', '/v1/jobs?limit=0', undefined, 400, { param: 'limit' }],
      ['GET', '/v1/jobs?after=job_gone', undefined, 400, { param: 'after' }],
    ];
    for (const [method, path, body, status, error] of cases) {
      const response = await call(method, path, body);
      expect({ method, path, status: response.status, error: response.body.error }).toEqual({
        method,
        path,
        status,
        error: expect.objectContaining({ message: expect.any(String), type: expect.any(String), ...error }),
      });
    }
  });
});
