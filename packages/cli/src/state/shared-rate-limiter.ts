import type { RateLimiterLike, RateLimitVerdict } from '@fusionkit/core';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

type Limiter = RateLimiterMemory | RateLimiterRedis;

/**
 * Per-key limits of `fusion serve`, counted by rate-limiter-flexible over one-minute windows: in
 * Redis when the instances share one (every instance sees the same counts, atomically), else in
 * memory.
 */
export class SharedRateLimiter implements RateLimiterLike {
  readonly #redis: Redis | undefined;
  readonly #prefix: string;
  /** One limiter per allowance, as rate-limiter-flexible fixes `points` per instance. */
  readonly #limiters = new Map<number, Limiter>();

  constructor(options: { redis?: Redis; prefix?: string } = {}) {
    this.#redis = options.redis;
    this.#prefix = options.prefix ?? 'fusion:limits';
  }

  async consume(name: string, points: number, perMinute: number, force = false): Promise<RateLimitVerdict> {
    const limiter = this.#limiter(perMinute);
    if (points === 0) {
      const current = await limiter.get(name);
      return current && current.consumedPoints >= perMinute
        ? { allowed: false, retryAfterMs: current.msBeforeNext }
        : { allowed: true, retryAfterMs: 0 };
    }
    try {
      const result = force ? await limiter.penalty(name, points) : await limiter.consume(name, points);
      return result.consumedPoints > perMinute
        ? { allowed: false, retryAfterMs: result.msBeforeNext }
        : { allowed: true, retryAfterMs: 0 };
    } catch (error) {
      // A refusal comes as a rejected RateLimiterRes; anything else (Redis down) is a real failure.
      if (error instanceof RateLimiterRes) return { allowed: false, retryAfterMs: error.msBeforeNext };
      throw error;
    }
  }

  #limiter(perMinute: number): Limiter {
    let limiter = this.#limiters.get(perMinute);
    if (!limiter) {
      const options = { keyPrefix: this.#prefix, points: perMinute, duration: 60 };
      limiter = this.#redis
        ? new RateLimiterRedis({ ...options, storeClient: this.#redis })
        : new RateLimiterMemory(options);
      this.#limiters.set(perMinute, limiter);
    }
    return limiter;
  }
}
