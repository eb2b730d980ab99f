import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
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

describe.each(['sqlite', 'redis'] as const)(
  'fusion serve: jobs in %s state',
  { timeout: 90_000 },
  (backend) => {
    let upstream: CountingUpstream;
    let redis: TestRedis | undefined;
    let stateEnv: Record<string, string> = { FUSION_REDIS_URL: '' };
    let cwd: string;
    let hooks: Server;
    let hooksURL: string;
    const deliveries: { headers: IncomingHttpHeaders; body: string }[] = [];
    const running: RunningCli[] = [];

    const start = async (env: Record<string, string> = { FUSION_WEBHOOKS_ALLOW_PRIVATE: 'true' }) => {
      const cli = await spawnCli(
        ['serve'],
        {
          FUSION_UPSTREAMS: `lab=${upstream.baseURL}`,
          FUSION_STATE: '',
          FUSION_WEBHOOKS_ALLOW_PRIVATE: '',
          ...stateEnv,
          ...env,
        },
        cwd,
      );
      running.push(cli);
      return cli;
    };
    const call = async (cli: RunningCli, method: string, path: string, body?: unknown, headers = {}) => {
      const response = await fetch(`${cli.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Json };
    };

    beforeAll(async () => {
      upstream = await startCountingUpstream();
      if (backend === 'redis') {
        redis = await startTestRedis();
        // A killed instance's lease on its job runs out in 2 s, so the next one takes it over soon.
        stateEnv = {
          FUSION_REDIS_URL: redis.url,
          FUSION_REDIS_PREFIX: redis.prefix,
          FUSION_JOBS_LEASE_MS: '2000',
        };
      }
      cwd = mkdtempSync(join(tmpdir(), 'fusion-jobs-'));
      hooks = createServer((request, response) => {
        let body = '';
        request.on('data', (part) => (body += part));
        request.on('end', () => {
          deliveries.push({ headers: request.headers, body });
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

    it('finishes a job exactly once after the process running it is killed with SIGKILL', async () => {
      const first = await start();
      expect(first.output()).toContain(
        backend === 'sqlite'
          ? `state: sqlite ${join(cwd, '.fusion', 'state.sqlite')}`
          : `(${redis?.prefix}:*)`,
      );
      const model = `lab/${COUNTING_MODEL}`;
      await expect
        .poll(async () =>
          ((await call(first, 'GET', '/v1/models')).body.data as Json[]).map((entry) => entry.id),
        )
        .toContain(model);
      const ask = (content: string) => ({ model, messages: [{ role: 'user', content }] });
      const batch = {
        kind: 'chat.batch',
        input: { requests: ['one', 'two', 'hold', 'four'].map(ask) },
        webhook: { url: hooksURL, secret: 'shh' },
      };
      const created = await call(first, 'POST', '/v1/jobs', batch, { 'idempotency-key': 'nightly' });
      expect(created.status).toBe(202);
      const id = created.body.id as string;

      // Two answers are in, the third is held at the upstream: kill the process there.
      await expect.poll(() => upstream.counts.hold ?? 0, { timeout: 15_000 }).toBe(1);
      expect((await call(first, 'GET', `/v1/jobs/${id}`)).body).toMatchObject({
        status: 'running',
        progress: { done: 2, total: 4 },
      });
      await first.stop('SIGKILL');
      upstream.release();

      const second = await start();
      await expect
        .poll(async () => (await call(second, 'GET', `/v1/jobs/${id}`)).body.status, { timeout: 15_000 })
        .toBe('succeeded');
      const done = (await call(second, 'GET', `/api/jobs/${id}`)).body;
      expect(done).toMatchObject({ attempts: 2, progress: { done: 4, total: 4 } });
      const answers = (
        done.result as { data: { response: { choices: { message: { content: string } }[] } }[] }
      ).data;
      expect(answers.map((item) => item.response.choices[0]!.message.content)).toEqual([
        'answer: one',
        'answer: two',
        'answer: hold',
        'answer: four',
      ]);
      // Answered work is not asked again; only the request cut off by the kill is.
      expect(upstream.counts).toEqual({ one: 1, two: 1, hold: 2, four: 1 });
      // One webhook, signed with its timestamp, for the one completion.
      await expect.poll(() => deliveries.length).toBe(1);
      const [delivery] = deliveries;
      expect(JSON.parse(delivery!.body)).toMatchObject({ id, status: 'succeeded' });
      const timestamp = delivery!.headers['x-fusion-timestamp'];
      const mac = createHmac('sha256', 'shh').update(`${timestamp}.${delivery!.body}`).digest('hex');
      expect(delivery!.headers['x-fusion-signature']).toBe(`t=${timestamp},v1=${mac}`);
      await expect
        .poll(async () => (await call(second, 'GET', `/v1/jobs/${id}`)).body.webhook)
        .toMatchObject({ status: 'delivered', attempts: 1, deliveries: [{ attempt: 1, status_code: 200 }] });
      // The idempotency key still names the job after the restart.
      expect((await call(second, 'POST', '/v1/jobs', batch, { 'idempotency-key': 'nightly' })).body.id).toBe(
        id,
      );
      await second.stop('SIGTERM');

      const third = await start();
      const listed = (await call(third, 'GET', '/v1/jobs')).body;
      expect((listed.data as Json[]).map((job) => [job.id, job.status])).toEqual([[id, 'succeeded']]);
      expect(upstream.counts).toEqual({ one: 1, two: 1, hold: 2, four: 1 });
      expect(deliveries).toHaveLength(1);
    });

    it('refuses webhooks to the private network with 400, as RAG ingest refuses such URLs', async () => {
      const cli = await start({});
      const job = (url: string) => ({
        kind: 'chat.batch',
        input: { requests: [{ model: 'lab/x', messages: [{ role: 'user', content: 'hi' }] }] },
        webhook: { url },
      });
      for (const url of [
        hooksURL,
        'http://10.0.0.8/hook',
        'http://[::1]:9/hook',
        'http://169.254.169.254/latest',
      ]) {
        const refused = await call(cli, 'POST', '/v1/jobs', job(url));
        expect({ url, ...refused }).toEqual({
          url,
          status: 400,
          body: { error: expect.objectContaining({ code: 'url_not_allowed', param: 'webhook.url' }) },
        });
      }
      expect((await call(cli, 'POST', '/v1/jobs', job('gopher://x'))).body.error).toMatchObject({
        code: 'invalid_webhook_url',
      });
    });

    it('answers an unknown job with 404 in the OpenAI error shape', async () => {
      const cli = running.at(-1) ?? (await start());
      const missing = await call(cli, 'GET', '/v1/jobs/job_missing');
      expect(missing).toEqual({
        status: 404,
        body: { error: expect.objectContaining({ code: 'job_not_found', type: 'not_found_error' }) },
      });
    });
  },
);
