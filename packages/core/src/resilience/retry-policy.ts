import { FusionError } from '../errors/fusion-error.js';

/** How calls are retried. */
export interface RetryPolicy {
  /** Retries after the first attempt. @default 2 */
  maxRetries?: number;
  /** First backoff, ms; doubles each retry. @default 250 */
  baseDelayMs?: number;
  /** Largest backoff, ms (a longer `Retry-After` still wins). @default 8000 */
  maxDelayMs?: number;
  /** Random share of each backoff ("full jitter" at 1). @default 1 */
  jitter?: number;
  /**
   * Longest `Retry-After` waited for, ms. A longer one goes to the client (with its `Retry-After`)
   * at once: it is better told when to come back than kept waiting on an open connection.
   * @default 10000
   */
  maxRetryAfterMs?: number;
}

/** Statuses that retrying cannot fix: the request itself is at fault. */
const NEVER_RETRIED = new Set([400, 401, 403, 404, 405, 413, 415, 422, 499]);

/** Whether an error may succeed on another attempt. Aborts and client errors never do. */
export function isRetryableError(error: unknown): boolean {
  if (!FusionError.isInstance(error)) return false;
  if (error.code === 'aborted' || NEVER_RETRIED.has(error.status)) return false;
  return error.isRetryable;
}

/**
 * The wait before retry number `retry` (1-based): exponential with jitter, never shorter than the
 * error's `Retry-After`.
 */
export function backoffDelay(
  policy: RetryPolicy,
  retry: number,
  error: unknown,
  random: () => number = Math.random,
): number {
  const base = policy.baseDelayMs ?? 250;
  const max = policy.maxDelayMs ?? 8000;
  const jitter = policy.jitter ?? 1;
  const exponential = Math.min(max, base * 2 ** (retry - 1));
  const delay = exponential * (1 - jitter) + exponential * jitter * random();
  const retryAfter = FusionError.isInstance(error) ? (error.retryAfterMs ?? 0) : 0;
  return Math.max(Math.round(delay), retryAfter);
}

/**
 * The wait before the attempt after attempt number `attempt` (1-based), or `undefined` when the
 * error should go to the caller instead: it is not retryable, the retries are used up, or its
 * `Retry-After` is longer than `maxRetryAfterMs`.
 */
export function nextRetryDelay(policy: RetryPolicy, attempt: number, error: unknown): number | undefined {
  if (attempt > (policy.maxRetries ?? 2) || !isRetryableError(error)) return undefined;
  const fusionError = error as FusionError;
  // An open circuit is refused again until its cooldown passes: another attempt cannot help.
  if (fusionError.code === 'circuit_open') return undefined;
  if ((fusionError.retryAfterMs ?? 0) > (policy.maxRetryAfterMs ?? 10_000)) return undefined;
  return backoffDelay(policy, attempt, error);
}
