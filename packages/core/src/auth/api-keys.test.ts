import { describe, expect, it } from 'vitest';
import { AuthenticationError } from '../errors/authentication-error.js';
import { RateLimitError } from '../errors/rate-limit-error.js';
import { ApiKeys } from './api-keys.js';
import { MemoryRateLimiter } from './rate-limiter.js';

const withKey = (key: string) =>
  new Request('http://localhost/v1/models', { headers: { authorization: `Bearer ${key}` } });

describe('ApiKeys', () => {
  it('knows a key by its SHA-256 alone, and names it by id', async () => {
    const sha256 = await ApiKeys.hash('fk_team_a');
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    const keys = new ApiKeys([{ id: 'team-a', sha256 }, { id: 'team-b', key: 'fk_team_b' }, 'fk_plain']);
    expect(await keys.authenticate(withKey('fk_team_a'))).toEqual({ id: 'team-a' });
    expect(await keys.authenticate(withKey('fk_team_b'))).toEqual({ id: 'team-b' });
    const plainId = `key-${(await ApiKeys.hash('fk_plain')).slice(0, 12)}`;
    expect(await ApiKeys.idOf('fk_plain')).toBe(plainId);
    expect(await keys.authenticate(withKey('fk_plain'))).toEqual({ id: plainId });
  });

  it('names a plain key after its hash, so that reordering the list changes no id', async () => {
    const forward = new ApiKeys(['fk_one', 'fk_two']);
    const backward = new ApiKeys(['fk_two', 'fk_one']);
    for (const key of ['fk_one', 'fk_two']) {
      const id = (await forward.authenticate(withKey(key))).id;
      expect(id).toMatch(/^key-[0-9a-f]{12}$/);
      expect((await backward.authenticate(withKey(key))).id).toBe(id);
    }
    expect((await forward.authenticate(withKey('fk_one'))).id).not.toBe(
      (await forward.authenticate(withKey('fk_two'))).id,
    );
    expect(() => new ApiKeys(['fk_one', 'fk_one'])).toThrow(/twice/);
    // An explicit id that a plain key's id would repeat is refused too, at once, naming both entries.
    const derived = await ApiKeys.idOf('fk_one');
    expect(() => new ApiKeys([{ id: derived, key: 'other' }, 'fk_one'])).toThrow(
      `API key id '${derived}' is given twice: entry 1 (id '${derived}') and entry 2 (a key given in clear, whose id is '${derived}').`,
    );
    expect(() => new ApiKeys(['fk_one', { id: derived, sha256: 'ab'.repeat(32) }])).toThrow(
      /entry 1 \(a key given in clear.*\) and entry 2 \(id/,
    );
    // A malformed sha256 too, rather than at the first request.
    expect(() => new ApiKeys([{ id: 'a', sha256: 'not-hex' }])).toThrow(/64 hex digits/);
  });

  it('marks an admin key as such, and only that one', async () => {
    const keys = new ApiKeys([
      { id: 'ops', key: 'fk_ops', admin: true },
      { id: 'app', key: 'fk_app', admin: false },
      { id: 'other', key: 'fk_other' },
    ]);
    expect(await keys.authenticate(withKey('fk_ops'))).toEqual({ id: 'ops', admin: true });
    expect(await keys.authenticate(withKey('fk_app'))).toEqual({ id: 'app' });
    expect(await keys.authenticate(withKey('fk_other'))).toEqual({ id: 'other' });
  });

  it('refuses a missing or unknown key with 401, never quoting it', async () => {
    const keys = new ApiKeys([{ id: 'team-a', key: 'fk_secret_value' }]);
    const unknown = await keys.authenticate(withKey('fk_secret_valuf')).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(AuthenticationError);
    expect((unknown as Error).message).not.toContain('fk_secret');
    await expect(keys.authenticate(new Request('http://localhost/'))).rejects.toMatchObject({ status: 401 });
  });

  it('refuses a config that gives a key twice or neither key nor hash', () => {
    expect(
      () =>
        new ApiKeys([
          { id: 'a', key: 'x' },
          { id: 'a', key: 'y' },
        ]),
    ).toThrow("API key id 'a' is given twice: entry 1 (id 'a') and entry 2 (id 'a').");
    expect(() => new ApiKeys([{ id: 'a' }])).toThrow(/key or sha256/);
  });

  it('lets exactly requestsPerMinute requests through, then 429 with a retry time', async () => {
    let now = 0;
    const keys = new ApiKeys([{ id: 'a', key: 'k', requestsPerMinute: 3 }], {
      limiter: new MemoryRateLimiter({ now: () => now }),
    });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => keys.authenticate(withKey('k'))),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
    const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(RateLimitError);
    expect(refused.reason).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(refused.reason.retryAfterMs).toBeGreaterThan(0);
    now = 60_000;
    expect(await keys.authenticate(withKey('k'))).toEqual({ id: 'a' });
  });

  it('refuses a key that spent its tokens of the minute until the minute ends', async () => {
    let now = 0;
    const keys = new ApiKeys([{ id: 'a', key: 'k', tokensPerMinute: 100 }], {
      limiter: new MemoryRateLimiter({ now: () => now }),
    });
    await keys.authenticate(withKey('k'));
    await keys.spend('a', 60);
    await keys.authenticate(withKey('k'));
    await keys.spend('a', 60);
    await expect(keys.authenticate(withKey('k'))).rejects.toMatchObject({ status: 429, type: 'tokens' });
    now = 61_000;
    expect(await keys.authenticate(withKey('k'))).toEqual({ id: 'a' });
  });
});
