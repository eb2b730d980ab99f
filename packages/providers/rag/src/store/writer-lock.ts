import { join } from 'node:path';
import { UnavailableError } from '@fusionkit/core';
import lockfile from 'proper-lockfile';

/** How a collection's writer waits for another process's write. */
export interface WriterLockOptions {
  /**
   * How long a write waits for another process that is writing the same collection, then fails with
   * 503 `collection_locked`. @default 30_000
   */
  waitMs?: number;
  /**
   * A lock not refreshed for this long is stale (its process died, e.g. `kill -9`) and is taken over.
   * The holder refreshes it every `staleMs / 2`. At least 2000. @default 10_000
   */
  staleMs?: number;
}

/** The lock's directory inside the collection's (no data file name starts like it). */
export const WRITER_LOCK = 'writer.lock';

/**
 * The inter-process lock of one collection's writes: `proper-lockfile` (an atomic `mkdir` of
 * `<dir>/writer.lock`, kept fresh by its holder, taken over once stale). A write takes it, re-reads the
 * commit it builds on, commits and releases it, so two processes writing one collection take turns
 * instead of overwriting each other's log or snapshot.
 */
export class WriterLock {
  readonly #directory: string;
  readonly #name: string;
  readonly #waitMs: number;
  readonly #staleMs: number;

  constructor(directory: string, name: string, options: WriterLockOptions = {}) {
    this.#directory = directory;
    this.#name = name;
    this.#waitMs = Math.max(0, options.waitMs ?? 30_000);
    this.#staleMs = Math.max(2000, options.staleMs ?? 10_000);
  }

  /** Runs `work` holding the lock; waits up to `waitMs` for another holder, then throws 503. */
  async run<TResult>(work: () => Promise<TResult>): Promise<TResult> {
    let compromised: Error | undefined;
    // The default throws from a timer (an uncaught exception): note it and fail the write instead.
    const options = this.#options((error) => {
      compromised = error;
    });
    let release: () => unknown;
    try {
      // A free lock is taken at once, with no round trip through the thread pool (on a busy machine
      // each costs milliseconds); a held one is waited for.
      release =
        this.#lockNow(options) ??
        (await lockfile.lock(this.#directory, {
          ...options,
          // About `waitMs` in all: a wait of at most 500 ms between tries.
          retries: {
            retries: Math.ceil(this.#waitMs / 250),
            factor: 1.2,
            minTimeout: 50,
            maxTimeout: 500,
            maxRetryTime: this.#waitMs,
          },
        }));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      throw new UnavailableError(
        `Collection '${this.#name}' is being written by another process (lock ${join(this.#directory, WRITER_LOCK)}); try again when that write is done.`,
        { code: 'collection_locked', retryAfterMs: 1000, cause: error },
      );
    }
    try {
      const result = await work();
      if (compromised) throw compromised;
      return result;
    } finally {
      await releaseQuietly(release);
    }
  }

  /** Runs `work` if the lock is free right now, else skips it (cleanups a reader may leave out). */
  async tryRun(work: () => Promise<void>): Promise<void> {
    const release = this.#lockNow(this.#options(() => {}));
    if (!release) return;
    try {
      await work();
    } finally {
      await releaseQuietly(release);
    }
  }

  #options(onCompromised: (error: Error) => void) {
    return {
      lockfilePath: join(this.#directory, WRITER_LOCK),
      stale: this.#staleMs,
      realpath: false,
      onCompromised,
    };
  }

  /** Takes the lock synchronously if it is free (or stale); `undefined` when another process holds it. */
  #lockNow(options: lockfile.LockOptions): (() => void) | undefined {
    try {
      return lockfile.lockSync(this.#directory, options);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
      throw error;
    }
  }
}

/** Releases a lock; a failure (the lock was taken over as stale) is the new holder's business. */
async function releaseQuietly(release: () => unknown): Promise<void> {
  try {
    await release();
  } catch {}
}
