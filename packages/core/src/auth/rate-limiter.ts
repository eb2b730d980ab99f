/** What a rate limiter answers to a `consume`. */
export interface RateLimitVerdict {
  allowed: boolean;
  /** When the points come back, ms (0 when allowed). */
  retryAfterMs: number;
}

/**
 * Counts points (requests, tokens) per name over one-minute windows. `fusion serve` shares one
 * through Redis between its instances (rate-limiter-flexible); {@link MemoryRateLimiter} counts in
 * one process.
 */
export interface RateLimiterLike {
  /**
   * Takes `points` from `name`'s allowance of `perMinute`. `force`: take them even past the
   * allowance (tokens are known only once spent), so that the next request waits.
   */
  consume(name: string, points: number, perMinute: number, force?: boolean): Promise<RateLimitVerdict>;
}

/** Fixed one-minute windows in memory: for one process (library use, tests). */
export class MemoryRateLimiter implements RateLimiterLike {
  readonly #windows = new Map<string, { startedAt: number; used: number }>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async consume(name: string, points: number, perMinute: number, force = false): Promise<RateLimitVerdict> {
    const now = this.#now();
    let window = this.#windows.get(name);
    if (!window || now - window.startedAt >= 60_000) {
      window = { startedAt: now, used: 0 };
      this.#windows.set(name, window);
    }
    const retryAfterMs = window.startedAt + 60_000 - now;
    if (window.used + points > perMinute && !force) return { allowed: false, retryAfterMs };
    window.used += points;
    return window.used > perMinute ? { allowed: false, retryAfterMs } : { allowed: true, retryAfterMs: 0 };
  }
}
