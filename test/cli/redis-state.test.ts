import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FusionState, openState } from '../../packages/cli/src/state/open-state.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

describe('state in Redis (FUSION_REDIS_URL), against a real Redis', () => {
  let redis: TestRedis;
  const states: FusionState[] = [];
  const open = async (env: Record<string, string> = {}) => {
    const state = await openState({
      cwd: process.cwd(),
      env: { FUSION_REDIS_URL: redis.url, FUSION_REDIS_PREFIX: redis.prefix, ...env },
    });
    states.push(state);
    return state;
  };

  beforeAll(async () => {
    redis = await startTestRedis();
  });

  afterAll(async () => {
    await Promise.all(states.map((state) => state.close()));
    await redis?.close();
  });

  it('keeps values across instances, by namespace, and forgets them past their ttl', async () => {
    const first = await open();
    expect(first.description).toContain(`(${redis.prefix}:*)`);
    await first.keyv('jobs').set('a', { status: 'running' });
    await first.keyv('traces').set('short', 1, 50);
    const second = await open();
    expect(await second.keyv('jobs').get('a')).toEqual({ status: 'running' });
    expect(await second.keyv('traces').get('a')).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await second.keyv('traces').get('short')).toBeUndefined();
    await second.keyv('jobs').delete('a');
    expect(await first.keyv('jobs').get('a')).toBeUndefined();
  });

  it('rejects when Redis cannot be reached, for strict (jobs) use', async () => {
    const state = await openState({ cwd: process.cwd(), env: { FUSION_REDIS_URL: 'redis://127.0.0.1:1' } });
    states.push(state);
    await expect(state.keyv('jobs', { strict: true }).get('index')).rejects.toThrow();
  });
});
