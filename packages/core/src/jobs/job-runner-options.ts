import type { KeyvLike } from '../state/keyv-like.js';

/** Options of {@link JobRunner}. */
export interface JobRunnerOptions {
  /** Jobs running at once; the others wait in order. @default 1 */
  concurrency?: number;
  /** How long a finished job stays readable, ms. @default 3_600_000 (one hour) */
  ttlMs?: number;
  /** Finished jobs kept at most; the oldest are forgotten first. @default 1000 */
  maxFinished?: number;
  /** Jobs that may wait for a slot; more are refused with 429. @default 1000 */
  maxQueued?: number;
  /**
   * Where jobs are kept so that they survive a restart (a Keyv over SQLite or Redis). Call
   * `await jobs.restore()` once before creating jobs: unfinished jobs of a defined kind run again.
   * @default none: jobs live in memory only
   */
  store?: KeyvLike<unknown>;
  /** Prefix of the store's keys. @default 'jobs' */
  storePrefix?: string;
  /** Called when a write to the store fails (the job goes on in memory). */
  onStoreError?: (error: unknown) => void;
  /** Sends webhooks. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Time allowed to one webhook attempt, ms. @default 10_000 */
  webhookTimeoutMs?: number;
  /** Webhook attempts in all. @default 3 */
  webhookAttempts?: number;
  /** Wait before the second webhook attempt, doubled after each, ms. @default 1000 */
  webhookRetryDelayMs?: number;
  /** The clock, for tests. @default Date.now */
  now?: () => number;
}
