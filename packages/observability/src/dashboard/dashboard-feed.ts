import type { Fusion } from '@fusionkit/core';
import { RouteLabels } from '../metrics/route-label.js';
import { RequestBook } from '../request-book.js';

/** The parts of the orchestrator the dashboard's feed observes. */
export type FedFusion = Pick<Fusion, 'events'>;

/** One answered request, as the dashboard's latency chart and list show it. */
export interface RecentRequest {
  /** Unix ms when it ended (for streams: the last chunk). */
  at: number;
  request_id: string;
  method: string;
  /** The route label (ids collapsed, as in the metrics). */
  route: string;
  model?: string;
  status: number;
  stream: boolean;
  duration_ms: number;
}

/** One pipeline run, with the id of its trace (`GET /api/fusion/traces/{id}`). */
export interface RecentRun {
  at: number;
  request_id: string;
  trace_id: string;
  pipeline: string;
  strategy: string;
  calls: number;
  outcome: string;
  duration_ms: number;
}

/** What the dashboard's feed keeps: totals and the latest requests and pipeline runs. */
export interface DashboardFeed {
  snapshot(): {
    requests_total: number;
    by_status: Record<string, number>;
    recent_requests: RecentRequest[];
    recent_runs: RecentRun[];
  };
  /** Unsubscribes. */
  close(): void;
}

/** A bounded list that keeps the newest `max` entries. */
class Ring<T> {
  readonly #items: T[] = [];
  constructor(readonly max: number) {}
  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.max) this.#items.splice(0, this.#items.length - this.max);
  }
  list(): T[] {
    return [...this.#items];
  }
}

/** The dashboard's routes, left out of what it shows. */
const OWN_PATHS = '/dashboard';

const round = (milliseconds: number) => Math.round(milliseconds * 10) / 10;

/**
 * The event-bus subscriber behind `/dashboard`: counts answered requests by status and keeps the
 * latest `maxRequests` requests (for the live latency chart) and `maxRuns` pipeline runs. No
 * prompts, answers or headers are kept, and the dashboard's own requests are left out.
 */
export function createDashboardFeed(
  fusion: FedFusion,
  options: { maxRequests?: number; maxRuns?: number } = {},
): DashboardFeed {
  const requests = new Ring<RecentRequest>(options.maxRequests ?? 300);
  const runs = new Ring<RecentRun>(options.maxRuns ?? 30);
  const byStatus: Record<string, number> = {};
  let total = 0;
  const routes = new RouteLabels();
  const open = new RequestBook<{
    startedAt: number;
    model?: string;
    streaming?: boolean;
    method: string;
    path: string;
  }>();
  const events = fusion.events;
  const finish = (requestId: string, status: number, durationMs: number, stream: boolean) => {
    const record = open.close(requestId);
    requests.push({
      at: Date.now(),
      request_id: requestId,
      method: record?.method ?? 'GET',
      route: routes.of(record?.path ?? '/'),
      ...(record?.model ? { model: record.model } : {}),
      status,
      stream,
      duration_ms: round(durationMs),
    });
  };
  const unsubscribes = [
    events.on('request:start', ({ requestId, method, path }) => {
      // The dashboard's own polls would fill its lists.
      if (!path.startsWith(OWN_PATHS)) open.open(requestId, { startedAt: performance.now(), method, path });
    }),
    events.on('route:choose', ({ requestId, pipeline }) => {
      const record = open.get(requestId);
      if (record && record.model === undefined) record.model = pipeline;
    }),
    events.on('provider:call:start', ({ requestId, model }) => {
      const record = open.get(requestId);
      if (record && record.model === undefined) record.model = model;
    }),
    events.on('stream:start', ({ requestId }) => {
      const record = open.get(requestId);
      if (record) record.streaming = true;
    }),
    events.on('request:end', ({ requestId, path, status, durationMs }) => {
      if (path.startsWith(OWN_PATHS)) return;
      total++;
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      const record = open.get(requestId);
      if (record?.streaming && status < 400) return; // ends with its last chunk
      finish(requestId, status, durationMs, false);
    }),
    ...(['stream:end', 'stream:error'] as const).map((name) =>
      events.on(name, ({ requestId }) => {
        const record = open.get(requestId);
        if (record) finish(requestId, 200, performance.now() - record.startedAt, true);
      }),
    ),
    events.on(
      'pipeline:end',
      ({ requestId, traceId, pipeline, strategy, calls, partial, durationMs, error }) =>
        runs.push({
          at: Date.now(),
          request_id: requestId,
          trace_id: traceId,
          pipeline,
          strategy,
          calls,
          outcome: error ? error.code : partial ? 'partial' : 'complete',
          duration_ms: round(durationMs),
        }),
    ),
  ];
  return {
    snapshot: () => ({
      requests_total: total,
      by_status: { ...byStatus },
      recent_requests: requests.list(),
      recent_runs: runs.list().reverse(),
    }),
    close() {
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
    },
  };
}
