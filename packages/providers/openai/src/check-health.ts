import { AbortedError, FusionError, type HealthStatus } from '@fusionkit/core';
import type { HttpClient, JsonResponse } from './http-client.js';
import { isRecord, type JsonRecord, numberOrUndefined, stringOrUndefined } from './json-guards.js';

/** What {@link checkHealth} probes and how long it waits. */
export interface CheckHealthOptions {
  client: HttpClient;
  /** Whether to read mlx-openai-server's `/v1/queue/stats`. */
  queueStats: boolean;
  /** Time allowed to each probe, ms. */
  timeoutMs: number;
  signal?: AbortSignal;
}

const MAX_PROBE_BYTES = 1024 * 1024;

/**
 * Health of an OpenAI-compatible server.
 *
 * `GET /health` at the server root decides, by its HTTP status only: mlx-openai-server-lab says
 * `status: "ok"` in a 503. A 503 while lab's warm-up runs, or a llama.cpp-style "loading" answer,
 * is `loading`. Servers without `/health` (404) are `ready` when `GET {baseURL}/models` succeeds.
 * Queue depth and running requests come from `/v1/queue/stats` (`queue_stats.queue_stats`) when
 * the server has it. Only an abort of `signal` throws; unreachable servers are `unhealthy`.
 */
export async function checkHealth(options: CheckHealthOptions): Promise<HealthStatus> {
  const { client, signal, timeoutMs } = options;
  const probe = (path: string, fromOrigin: boolean) =>
    client.fetchJson({ method: 'GET', path, fromOrigin, signal, timeoutMs, maxBytes: MAX_PROBE_BYTES });
  const started = performance.now();
  const queue = options.queueStats ? probe('/queue/stats', false).catch(() => undefined) : undefined;

  let status: HealthStatus;
  try {
    const health = await probe('/health', true);
    const latencyMs = Math.round(performance.now() - started);
    if (health.status === 404 || health.status === 405) {
      status = fromModelsProbe(await probe('/models', false), latencyMs);
    } else {
      status = fromHealthProbe(health, latencyMs);
    }
  } catch (error) {
    if (signal?.aborted)
      throw error instanceof FusionError ? error : new AbortedError('The health check was aborted.');
    const message = error instanceof Error ? error.message : String(error);
    status = { status: 'unhealthy', message, latencyMs: Math.round(performance.now() - started) };
  }

  const stats = queue ? await queue : undefined;
  if (stats && stats.status >= 200 && stats.status < 300) Object.assign(status, queueNumbers(stats.body));
  return status;
}

function fromHealthProbe(health: JsonResponse, latencyMs: number): HealthStatus {
  const body = isRecord(health.body) ? health.body : {};
  const warmedUp = typeof body.warmup_completed === 'boolean' ? body.warmup_completed : undefined;
  const result: HealthStatus = { status: 'ready', latencyMs };
  if (warmedUp !== undefined) result.warmedUp = warmedUp;
  if (health.status >= 200 && health.status < 300) return result;

  const modelStatus = stringOrUndefined(body.model_status);
  const warmingUp = body.warmup_enabled === true && body.warmup_completed === false;
  const loading = warmingUp || modelStatus === 'loading' || /loading/i.test(health.text);
  result.status = health.status === 503 && loading ? 'loading' : 'unhealthy';
  result.message =
    `GET /health answered ${health.status}` +
    (modelStatus ? ` (model_status: ${modelStatus})` : health.text ? `: ${health.text.slice(0, 200)}` : '');
  return result;
}

function fromModelsProbe(models: JsonResponse, latencyMs: number): HealthStatus {
  if (models.status >= 200 && models.status < 300) return { status: 'ready', latencyMs };
  return { status: 'unhealthy', message: `GET /models answered ${models.status}`, latencyMs };
}

/** `{queue_stats: {queue_stats: {queue_size, active_requests, running}}}`, nested twice. */
function queueNumbers(body: unknown): Pick<HealthStatus, 'queueDepth' | 'running'> {
  if (!isRecord(body) || !isRecord(body.queue_stats)) return {};
  const outer: JsonRecord = body.queue_stats;
  const stats = isRecord(outer.queue_stats) ? outer.queue_stats : outer;
  const numbers: Pick<HealthStatus, 'queueDepth' | 'running'> = {};
  const queueDepth = numberOrUndefined(stats.queue_size);
  if (queueDepth !== undefined) numbers.queueDepth = queueDepth;
  // `running` is the worker's on/off flag in mlx-openai-server; a count only on other servers.
  const running = numberOrUndefined(stats.active_requests) ?? numberOrUndefined(stats.running);
  if (running !== undefined) numbers.running = running;
  return numbers;
}
