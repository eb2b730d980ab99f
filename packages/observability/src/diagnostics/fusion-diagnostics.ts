import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Fusion, JobSnapshot, QueueStats } from '@fusionkit/core';
import { redactPaths } from './redact-paths.js';

/** The parts of the orchestrator diagnostics read. */
export type DiagnosedFusion = Pick<
  Fusion,
  'registry' | 'targetHealth' | 'queueStats' | 'inFlight' | 'closing'
>;

/** What `GET /internal/diagnostics` answers. Messages have local paths replaced by `<path>`. */
export interface DiagnosticsReport {
  time: string;
  closing: boolean;
  in_flight: number;
  models: {
    id: string;
    provider: string;
    status: 'ready' | 'loading' | 'unhealthy';
    loaded?: boolean;
    memory_bytes?: number;
    in_use: number;
    last_used?: string;
    circuit: 'closed' | 'open' | 'half-open';
    /** Until the circuit lets a call through again. */
    circuit_retry_after_ms?: number;
    message?: string;
  }[];
  /** Bytes the loaded models occupy, as their providers report. */
  loaded_bytes: number;
  providers: {
    id: string;
    status: 'ready' | 'loading' | 'unhealthy';
    message?: string;
    queue_depth?: number;
    running?: number;
    latency_ms?: number;
    warmed_up?: boolean;
  }[];
  queue: QueueStats;
  /** Durable jobs, when the diagnostics were given a job runner. */
  jobs?: {
    total: number;
    by_status: Record<string, number>;
    /** The newest few. */
    recent: Pick<
      JobSnapshot,
      'id' | 'kind' | 'status' | 'progress' | 'created_at' | 'finished_at' | 'attempts'
    >[];
  };
  process: {
    uptime_s: number;
    node: string;
    memory: { rss: number; heap_used: number; heap_total: number; external: number; array_buffers: number };
    /** Event-loop delay since the previous report (or since start), ms. */
    event_loop_delay_ms: {
      min: number;
      mean: number;
      p50: number;
      p99: number;
      max: number;
      window_ms: number;
    };
  };
}

/** Options of {@link createFusionDiagnostics}. */
export interface FusionDiagnosticsOptions {
  /** The job runner whose jobs the report shows (`JobRunner` of `@fusionkit/core`). */
  jobs?: { list(): JobSnapshot[] };
  /** Jobs listed in `jobs.recent`. @default 10 */
  recentJobs?: number;
}

export interface FusionDiagnostics {
  report(): DiagnosticsReport;
  /** Stops the event-loop delay monitor. */
  close(): void;
}

const round = (value: number) => Math.round(value * 100) / 100;

/**
 * A snapshot of the orchestrator and its process for operators: models (status, loaded state,
 * memory, circuit), providers' health, the queue, durable jobs (when given the runner), process
 * memory and event-loop delay. It reads
 * state when asked and subscribes to nothing; the only running part is Node's event-loop delay
 * histogram (`monitorEventLoopDelay`), sampled by libuv at 20 ms.
 */
export function createFusionDiagnostics(
  fusion: DiagnosedFusion,
  options: FusionDiagnosticsOptions = {},
): FusionDiagnostics {
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  let windowStart = performance.now();

  const loopDelay = (): DiagnosticsReport['process']['event_loop_delay_ms'] => {
    const milliseconds = (nanoseconds: number) =>
      Number.isFinite(nanoseconds) ? round(nanoseconds / 1e6) : 0;
    const now = performance.now();
    const delay = {
      min: milliseconds(loop.min),
      mean: milliseconds(loop.mean),
      p50: milliseconds(loop.percentile(50)),
      p99: milliseconds(loop.percentile(99)),
      max: milliseconds(loop.max),
      window_ms: Math.round(now - windowStart),
    };
    loop.reset();
    windowStart = now;
    return delay;
  };

  return {
    report() {
      const { registry, targetHealth } = fusion;
      const models: DiagnosticsReport['models'] = registry.list().map((model) => {
        const entry: DiagnosticsReport['models'][number] = {
          id: model.id,
          provider: model.provider.id,
          status: model.status,
          in_use: model.inUse,
          circuit: targetHealth.circuit(model.id),
        };
        if (model.info.loaded !== undefined) entry.loaded = model.info.loaded;
        const bytes = model.provider.memoryBytes?.(model.localId) ?? model.info.memory_bytes;
        if (bytes !== undefined) entry.memory_bytes = bytes;
        if (model.lastUsed > 0) entry.last_used = new Date(model.lastUsed).toISOString();
        const retryAfterMs = targetHealth.retryAfterMs(model.id);
        if (retryAfterMs > 0) entry.circuit_retry_after_ms = retryAfterMs;
        if (model.statusMessage) entry.message = redactPaths(model.statusMessage);
        return entry;
      });
      const providers: DiagnosticsReport['providers'] = registry.providers().map((provider) => {
        const health = registry.health(provider.id);
        const entry: DiagnosticsReport['providers'][number] = {
          id: provider.id,
          status: health?.status ?? 'loading',
        };
        if (health?.message) entry.message = redactPaths(health.message);
        if (health?.queueDepth !== undefined) entry.queue_depth = health.queueDepth;
        if (health?.running !== undefined) entry.running = health.running;
        if (health?.latencyMs !== undefined) entry.latency_ms = health.latencyMs;
        if (health?.warmedUp !== undefined) entry.warmed_up = health.warmedUp;
        return entry;
      });
      const memory = process.memoryUsage();
      const jobs = options.jobs ? jobsReport(options.jobs.list(), options.recentJobs ?? 10) : undefined;
      return {
        time: new Date().toISOString(),
        closing: fusion.closing,
        in_flight: fusion.inFlight,
        models,
        loaded_bytes: registry.loadedBytes(),
        providers,
        queue: fusion.queueStats(),
        ...(jobs ? { jobs } : {}),
        process: {
          uptime_s: Math.round(process.uptime()),
          node: process.version,
          memory: {
            rss: memory.rss,
            heap_used: memory.heapUsed,
            heap_total: memory.heapTotal,
            external: memory.external,
            array_buffers: memory.arrayBuffers,
          },
          event_loop_delay_ms: loopDelay(),
        },
      };
    },
    close: () => loop.disable(),
  };
}

function jobsReport(list: JobSnapshot[], recent: number): NonNullable<DiagnosticsReport['jobs']> {
  const byStatus: Record<string, number> = {};
  for (const job of list) byStatus[job.status] = (byStatus[job.status] ?? 0) + 1;
  return {
    total: list.length,
    by_status: byStatus,
    recent: list.slice(0, recent).map((job) => {
      const entry: NonNullable<DiagnosticsReport['jobs']>['recent'][number] = {
        id: job.id,
        kind: job.kind,
        status: job.status,
        progress: job.progress,
        created_at: job.created_at,
      };
      if (job.finished_at !== undefined) entry.finished_at = job.finished_at;
      if (job.attempts !== undefined) entry.attempts = job.attempts;
      return entry;
    }),
  };
}
