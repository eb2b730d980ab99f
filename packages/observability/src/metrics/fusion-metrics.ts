import type { Fusion } from '@fusionkit/core';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { RequestBook, type RequestRecord } from '../request-book.js';
import { metricFamilies } from './metric-families.js';
import { methodLabel, RouteLabels } from './route-label.js';

/** The parts of the orchestrator metrics observe: its bus, and state read at each scrape. */
export type ObservedFusion = Pick<Fusion, 'events' | 'registry' | 'targetHealth' | 'queueStats' | 'inFlight'>;

export interface FusionMetricsOptions {
  /** Registry to register on (several orchestrators need registries of their own). @default a new one */
  registry?: Registry;
  /** Prefix of every metric name. @default 'fusion_' */
  prefix?: string;
  /** Also export prom-client's process and Node.js metrics (`process_*`, `nodejs_*`). @default true */
  defaultMetrics?: boolean;
}

/** Prometheus metrics of one orchestrator. */
export interface FusionMetrics {
  readonly registry: Registry;
  /** `Content-Type` of {@link FusionMetrics.text}. */
  readonly contentType: string;
  /** The metrics in Prometheus text format. */
  text(): Promise<string>;
  /** Unsubscribes from the orchestrator's events. */
  close(): void;
}

const NONE = 'none';

/**
 * Prometheus metrics built only from the orchestrator's event bus and from state read when scraped:
 * nothing runs on the request path but these listeners, and without them nothing runs at all (the
 * bus skips events nobody listens to). Requests are labelled by route, model and status; target
 * calls by provider, target and pipeline.
 *
 * @example
 * const metrics = createFusionMetrics(fusion);
 * fusion.route('GET', '/metrics', async () => new Response(await metrics.text(), {
 *   headers: { 'content-type': metrics.contentType },
 * }));
 */
export function createFusionMetrics(
  fusion: ObservedFusion,
  options: FusionMetricsOptions = {},
): FusionMetrics {
  const registry = options.registry ?? new Registry();
  const prefix = options.prefix ?? 'fusion_';
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const metrics = metricFamilies(registry, prefix, {
    inFlight: () => fusion.inFlight,
    queue: () => fusion.queueStats(),
    *circuits() {
      for (const model of fusion.registry.list()) yield [model.id, fusion.targetHealth.circuit(model.id)];
    },
  });
  const routes = new RouteLabels();
  const requests = new RequestBook<RequestRecord & { method: string; path: string; unrouted?: boolean }>();
  /** The pipeline each request runs, from `route:choose` to `pipeline:end`. */
  const pipelines = new RequestBook<string>();
  const pipelineOf = (requestId: string) => pipelines.get(requestId) ?? NONE;
  const events = fusion.events;

  const unsubscribes = [
    events.on('request:start', ({ requestId, method, path }) =>
      requests.open(requestId, { startedAt: performance.now(), method: methodLabel(method), path }),
    ),
    events.on('route:choose', ({ requestId, pipeline }) => {
      pipelines.open(requestId, pipeline);
      const record = requests.get(requestId);
      if (record && record.model === undefined) record.model = pipeline;
    }),
    events.on('provider:call:start', ({ requestId, model }) => {
      const record = requests.get(requestId);
      if (record && record.model === undefined) record.model = model;
    }),
    events.on('stream:start', ({ requestId }) => {
      const record = requests.get(requestId);
      if (!record) return;
      record.streaming = true;
      metrics.timeToFirstToken
        .at(routes.of(record.path), record.model ?? NONE)
        .observe((performance.now() - record.startedAt) / 1000);
    }),
    events.on('request:error', ({ requestId, error }) => {
      // The handler's own 404 for a path no route serves (a missing model is `model_not_found`).
      const record = requests.get(requestId);
      if (record && error.code === 'not_found' && error.status === 404) record.unrouted = true;
    }),
    events.on('request:end', ({ requestId, path, status, durationMs, ...rest }) => {
      const record = requests.get(requestId);
      const method = methodLabel(rest.method);
      const route = routes.of(path, record?.unrouted !== true);
      const model = record?.model ?? NONE;
      metrics.requests.at(method, route, model, status).add();
      // The stream goes on after its headers: its duration is taken when it ends.
      if (record?.streaming && status < 400) return;
      requests.close(requestId);
      metrics.requestDuration.at(method, route, model, 'false').observe(durationMs / 1000);
    }),
    ...(['stream:end', 'stream:error'] as const).map((name) =>
      events.on(name, ({ requestId }) => {
        const record = requests.close(requestId);
        if (!record) return;
        metrics.requestDuration
          .at(record.method, routes.of(record.path), record.model ?? NONE, 'true')
          .observe((performance.now() - record.startedAt) / 1000);
      }),
    ),
    events.on(
      'provider:call:end',
      ({ requestId, provider, model, stream, durationMs, firstTokenMs, usage }) => {
        const pipeline = pipelineOf(requestId);
        metrics.calls.at(provider, model, pipeline, 'ok').add();
        metrics.callDuration.at(provider, model, pipeline, stream).observe(durationMs / 1000);
        if (firstTokenMs !== undefined) {
          metrics.callTimeToFirstToken.at(provider, model, pipeline).observe(firstTokenMs / 1000);
        }
        if (usage) {
          metrics.tokens.at(provider, model, pipeline, 'prompt').add(usage.prompt_tokens || 0);
          metrics.tokens.at(provider, model, pipeline, 'completion').add(usage.completion_tokens || 0);
        }
      },
    ),
    events.on('provider:call:error', ({ requestId, provider, model, stream, durationMs, error }) => {
      const pipeline = pipelineOf(requestId);
      metrics.calls.at(provider, model, pipeline, error.code).add();
      metrics.callDuration.at(provider, model, pipeline, stream).observe(durationMs / 1000);
    }),
    events.on('call:retry', ({ requestId, target }) =>
      metrics.retries.at(target, pipelineOf(requestId)).add(),
    ),
    events.on('hedge:fire', ({ requestId, target }) =>
      metrics.hedges.at(target, pipelineOf(requestId)).add(),
    ),
    events.on('queue:wait', ({ model, waitedMs }) => metrics.queueWait.at(model).observe(waitedMs / 1000)),
    events.on('retrieval:end', ({ collection, mode, degraded, durationMs }) => {
      metrics.retrievals.at(collection, mode, degraded ? 'degraded' : 'ok').add();
      metrics.retrievalDuration.at(collection, mode).observe(durationMs / 1000);
    }),
    events.on('retrieval:error', ({ collection, mode, error, durationMs }) => {
      metrics.retrievals.at(collection, mode, error.code).add();
      metrics.retrievalDuration.at(collection, mode).observe(durationMs / 1000);
    }),
    events.on('queue:reject', ({ model, reason }) => metrics.queueRejected.at(model, reason).add()),
    events.on('pipeline:end', ({ requestId, pipeline, strategy, calls, partial, durationMs, error }) => {
      pipelines.close(requestId);
      const outcome = error ? error.code : partial ? 'partial' : 'complete';
      metrics.pipelineRuns.at(pipeline, strategy, outcome).add();
      metrics.pipelineDuration.at(pipeline, strategy).observe(durationMs / 1000);
      metrics.pipelineCalls.at(pipeline, strategy).add(calls);
    }),
    events.on('breaker:open', ({ model }) => metrics.breakerTransitions.at(model, 'open').add()),
    events.on('breaker:half-open', ({ model }) => metrics.breakerTransitions.at(model, 'half-open').add()),
    events.on('breaker:close', ({ model }) => metrics.breakerTransitions.at(model, 'closed').add()),
  ];

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    close() {
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
    },
  };
}
