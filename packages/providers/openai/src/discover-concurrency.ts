import type { HttpClient } from './http-client.js';
import { isRecord, numberOrUndefined } from './json-guards.js';

const MAX_STATS_BYTES = 1024 * 1024;

/**
 * How many calls an mlx-openai-server runs before it queues or refuses, read from its
 * `GET /v1/queue/stats`: the lab fork's `max_concurrency` (a semaphore; default 1), else upstream
 * v1.8.1's `max_queue_size` (it batches and reports no concurrency, but answers 429 once that many
 * wait). `undefined` when the server does not say (vLLM, OpenAI, llama.cpp) or cannot be reached:
 * discovery never fails the caller.
 */
export async function discoverConcurrency(
  client: HttpClient,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<number | undefined> {
  try {
    const response = await client.fetchJson({
      method: 'GET',
      path: '/queue/stats',
      timeoutMs: options.timeoutMs,
      maxBytes: MAX_STATS_BYTES,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (response.status < 200 || response.status >= 300) return undefined;
    return concurrencyOf(response.body);
  } catch {
    return undefined;
  }
}

/** `{queue_stats: {queue_stats: {max_concurrency, max_queue_size}}}`, nested twice (or once). */
export function concurrencyOf(body: unknown): number | undefined {
  if (!isRecord(body) || !isRecord(body.queue_stats)) return undefined;
  const outer = body.queue_stats;
  const stats = isRecord(outer.queue_stats) ? outer.queue_stats : outer;
  const limit = numberOrUndefined(stats.max_concurrency) ?? numberOrUndefined(stats.max_queue_size);
  return limit !== undefined && limit >= 1 ? Math.floor(limit) : undefined;
}
