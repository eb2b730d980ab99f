/**
 * API keys of `fusion serve`, as clients meet them: two instances sharing one Redis count a key's
 * requests together (a burst of 100 on a key limited to 10 per minute: exactly 10 succeed, the rest
 * get 429 with Retry-After, through the official `openai` client too); a key sees only its own jobs;
 * the keys, given as SHA-256 in the config, never show in the servers' output.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeys } from '@fusionkit/core';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COUNTING_MODEL,
  type CountingUpstream,
  startCountingUpstream,
} from '../support/counting-upstream.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

type Json = Record<string, unknown>;

const KEY_A = 'fk_a_0123456789abcdef0123456789abcdef';
const KEY_B = 'fk_b_fedcba9876543210fedcba9876543210';
const KEY_C = 'fk_c_00112233445566778899aabbccddeeff';
const KEY_D = 'fk_d_ffeeddccbbaa99887766554433221100';

describe('fusion serve: API keys shared through Redis', { timeout: 120_000 }, () => {
  let upstream: CountingUpstream;
  let redis: TestRedis;
  let cwd: string;
  let servers: RunningCli[] = [];

  beforeAll(async () => {
    upstream = await startCountingUpstream();
    redis = await startTestRedis();
    cwd = mkdtempSync(join(tmpdir(), 'fusion-keys-'));
    writeFileSync(
      join(cwd, 'fusion.config.json'),
      JSON.stringify({
        apiKeys: [
          { id: 'team-a', sha256: await ApiKeys.hash(KEY_A), requestsPerMinute: 10 },
          { id: 'team-b', sha256: await ApiKeys.hash(KEY_B) },
          { id: 'team-c', key: KEY_C },
          // Each answer of the upstream costs 3 tokens: two answers pass the limit.
          { id: 'team-d', sha256: await ApiKeys.hash(KEY_D), tokensPerMinute: 5 },
        ],
      }),
    );
    const env = {
      FUSION_UPSTREAMS: `lab=${upstream.baseURL}`,
      FUSION_STATE: '',
      FUSION_REDIS_URL: redis.url,
      FUSION_REDIS_PREFIX: redis.prefix,
      FUSION_LOG: 'requests',
    };
    servers = [await spawnCli(['serve'], env, cwd), await spawnCli(['serve'], env, cwd)];
  });

  afterAll(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    await upstream?.close();
    await redis?.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  const call = async (server: RunningCli, key: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Json };
  };

  it('lets exactly 10 of a burst of 100 through on a key limited to 10, across two instances', async () => {
    const burst = await Promise.all(
      Array.from({ length: 100 }, (_, index) => call(servers[index % 2]!, KEY_A, 'GET', '/v1/models')),
    );
    expect(burst.filter((result) => result.status === 200)).toHaveLength(10);
    const refused = burst.filter((result) => result.status !== 200);
    expect(refused).toHaveLength(90);
    for (const result of refused) {
      expect(result.status).toBe(429);
      expect(Number(result.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(result.body).toEqual({
        error: expect.objectContaining({
          code: 'rate_limit_exceeded',
          message: expect.stringContaining('team-a'),
        }),
      });
    }
    // The official client sees a RateLimitError; the other key is not limited by A's use.
    const client = new OpenAI({ baseURL: `${servers[1]!.url}/v1`, apiKey: KEY_A, maxRetries: 0 });
    await expect(client.models.list()).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const other = new OpenAI({ baseURL: `${servers[0]!.url}/v1`, apiKey: KEY_B, maxRetries: 0 });
    expect((await other.models.list()).data.map((model) => model.id)).toContain(`lab/${COUNTING_MODEL}`);
    const wrong = new OpenAI({ baseURL: `${servers[0]!.url}/v1`, apiKey: 'fk_wrong', maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("scopes jobs per key: another key's job is unknown (404), listed for its owner only", async () => {
    const created = await call(servers[0]!, KEY_B, 'POST', '/v1/jobs', {
      kind: 'chat.batch',
      input: {
        requests: [{ model: `lab/${COUNTING_MODEL}`, messages: [{ role: 'user', content: 'mine' }] }],
      },
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    await expect
      .poll(async () => (await call(servers[1]!, KEY_B, 'GET', `/v1/jobs/${id}`)).body.status, {
        timeout: 15_000,
      })
      .toBe('succeeded');
    for (const server of servers) {
      for (const [method, path] of [
        ['GET', `/v1/jobs/${id}`],
        ['GET', `/api/jobs/${id}`],
        ['POST', `/v1/jobs/${id}/cancel`],
        ['DELETE', `/api/jobs/${id}`],
      ] as const) {
        const seen = await call(server, KEY_C, method, path);
        expect({ method, path, status: seen.status, code: (seen.body.error as Json)?.code }).toEqual({
          method,
          path,
          status: 404,
          code: 'job_not_found',
        });
      }
      expect((await call(server, KEY_C, 'GET', '/v1/jobs')).body.data).toEqual([]);
      expect((await call(server, KEY_C, 'GET', `/v1/jobs?after=${id}`)).status).toBe(400);
    }
    const listed = await call(servers[1]!, KEY_B, 'GET', '/v1/jobs');
    expect((listed.body.data as Json[]).map((job) => [job.id, job.status])).toEqual([[id, 'succeeded']]);
    expect(upstream.counts.mine).toBe(1);
  });

  it("counts a key's tokens across instances, a background response's included", async () => {
    const chat = { model: `lab/${COUNTING_MODEL}`, messages: [{ role: 'user', content: 'tokens' }] };
    expect((await call(servers[0]!, KEY_D, 'POST', '/v1/chat/completions', chat)).status).toBe(200);
    const created = await call(servers[1]!, KEY_D, 'POST', '/v1/responses', {
      model: `lab/${COUNTING_MODEL}`,
      input: 'background tokens',
      background: true,
    });
    expect(created.status).toBe(200);
    // Its tokens are charged when its call ends, on whichever instance ran it.
    await expect
      .poll(async () => (await call(servers[0]!, KEY_D, 'GET', '/v1/models')).status, { timeout: 15_000 })
      .toBe(429);
    const refused = await call(servers[1]!, KEY_D, 'GET', '/v1/models');
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ message: expect.stringContaining('tokens per minute') });
    expect(upstream.counts['background tokens']).toBe(1);
  });

  it('never writes a key to the output', () => {
    for (const server of servers) {
      expect(server.output()).not.toContain(KEY_A);
      expect(server.output()).not.toContain(KEY_B);
      expect(server.output()).not.toContain(KEY_C);
      expect(server.output()).not.toContain(KEY_D);
    }
  });
});
