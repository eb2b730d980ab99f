import type { QueueStats } from '@fusionkit/core';
import { Counter, Gauge, type Registry } from 'prom-client';
import { CellCounter, CellHistogram } from './label-cells.js';

/** What the metrics read from the orchestrator when scraped, rather than from events. */
export interface ScrapedState {
  inFlight(): number;
  queue(): QueueStats;
  /** Each registered model and the state of its circuit. */
  circuits(): Iterable<[target: string, state: 'closed' | 'half-open' | 'open']>;
}

const CIRCUIT_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Latency buckets in seconds, from a cached answer to a long generation. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * Every metric the orchestrator exports, registered on one registry. Counters and histograms move
 * with events, through per-label-tuple cells (`label-cells.ts`) that prom-client reads when
 * scraped; gauges of state (queue, circuits, in-flight) are read from `state` at each scrape.
 */
export function metricFamilies(registry: Registry, prefix: string, state: ScrapedState) {
  const registers = [registry];
  const counter = <TLabel extends string>(name: string, help: string, labelNames: TLabel[]) =>
    new CellCounter<TLabel>(registry, prefix + name, help, labelNames);
  const gauge = <TLabel extends string>(
    name: string,
    help: string,
    labelNames: TLabel[],
    collect?: (gauge: Gauge<TLabel>) => void,
  ): Gauge<TLabel> => {
    const created: Gauge<TLabel> = new Gauge<TLabel>({
      name: prefix + name,
      help,
      labelNames,
      registers,
      ...(collect ? { collect: () => collect(created) } : {}),
    });
    return created;
  };
  /** A gauge per model of the queue, refreshed at each scrape (models gone drop out). */
  const queueGauge = (name: string, help: string, read: (model: QueueStats['models'][string]) => number) =>
    gauge(name, help, ['model'], (created) => {
      created.reset();
      for (const [model, stats] of Object.entries(state.queue().models)) created.set({ model }, read(stats));
    });
  /** A counter of the queue's own running totals: it moves by what they grew since the last scrape. */
  const queueCounter = (
    name: string,
    help: string,
    read: (model: QueueStats['models'][string]) => number,
  ) => {
    const seen = new Map<string, number>();
    return new Counter<'model'>({
      name: prefix + name,
      help,
      labelNames: ['model'],
      registers,
      collect() {
        for (const [model, stats] of Object.entries(state.queue().models)) {
          const total = read(stats);
          const previous = seen.get(model);
          seen.set(model, total);
          // A model shows with 0 from its first scrape, so that rates start from a known value.
          if (previous === undefined || total > previous) this.inc({ model }, total - (previous ?? 0));
        }
      },
    });
  };
  const histogram = <TLabel extends string>(name: string, help: string, labelNames: TLabel[]) =>
    new CellHistogram<TLabel>(registry, prefix + name, help, labelNames, LATENCY_BUCKETS);

  return {
    requests: counter('http_requests_total', 'HTTP requests answered, by route, model and status.', [
      'method',
      'route',
      'model',
      'status',
    ]),
    requestDuration: histogram(
      'http_request_duration_seconds',
      'Time from a request to its whole answer (for streams: to the last chunk).',
      ['method', 'route', 'model', 'stream'],
    ),
    timeToFirstToken: histogram(
      'http_time_to_first_token_seconds',
      'Time from a streamed request to its first content chunk.',
      ['route', 'model'],
    ),
    requestsInFlight: gauge('requests_in_flight', 'Calls and streams running now.', [], (created) =>
      created.set(state.inFlight()),
    ),
    calls: counter('target_calls_total', 'Calls to a target (one per attempt), by outcome.', [
      'provider',
      'target',
      'pipeline',
      'outcome',
    ]),
    callDuration: histogram('target_call_duration_seconds', 'Duration of calls to a target.', [
      'provider',
      'target',
      'pipeline',
      'stream',
    ]),
    callTimeToFirstToken: histogram(
      'target_time_to_first_token_seconds',
      "Time from a streamed call's start to the target's first content chunk.",
      ['provider', 'target', 'pipeline'],
    ),
    tokens: counter('tokens_total', 'Tokens read (prompt) and written (completion) by targets.', [
      'provider',
      'target',
      'pipeline',
      'direction',
    ]),
    retries: counter('target_retries_total', 'Calls to a target that failed and were tried again.', [
      'target',
      'pipeline',
    ]),
    hedges: counter('hedges_total', 'Hedged calls started because the first target was slow.', [
      'target',
      'pipeline',
    ]),
    pipelineRuns: counter(
      'pipeline_runs_total',
      'Pipeline requests ended, by outcome (complete, partial, or the error code).',
      ['pipeline', 'strategy', 'outcome'],
    ),
    pipelineDuration: histogram('pipeline_duration_seconds', 'Duration of pipeline requests.', [
      'pipeline',
      'strategy',
    ]),
    pipelineCalls: counter('pipeline_calls_total', 'Target calls made by pipeline requests.', [
      'pipeline',
      'strategy',
    ]),
    breakerState: gauge(
      'circuit_breaker_state',
      "A target's circuit: 0 closed, 1 half-open (probing), 2 open (calls refused).",
      ['target'],
      (created) => {
        created.reset();
        for (const [target, circuit] of state.circuits()) created.set({ target }, CIRCUIT_VALUES[circuit]);
      },
    ),
    breakerTransitions: counter('circuit_breaker_transitions_total', 'Changes of circuit state.', [
      'target',
      'state',
    ]),
    retrievals: counter(
      'retrievals_total',
      'Searches of a collection, by mode and outcome: ok, degraded (answered by a fallback, e.g. BM25 with the embedder down), or the error code.',
      ['collection', 'mode', 'outcome'],
    ),
    retrievalDuration: histogram('retrieval_duration_seconds', 'Duration of searches of a collection.', [
      'collection',
      'mode',
    ]),
    queueWait: histogram(
      'queue_wait_seconds',
      'Time calls that had to wait for a queue slot waited, by model.',
      ['model'],
    ),
    queueRunning: queueGauge(
      'queue_running',
      'Calls holding a queue slot, by model.',
      (model) => model.running,
    ),
    queueWaiting: queueGauge(
      'queue_waiting',
      'Calls waiting for a queue slot, by model.',
      (model) => model.waiting,
    ),
    queueConcurrency: queueGauge(
      'queue_concurrency',
      'Slots of a model in the queue.',
      (model) => model.concurrency,
    ),
    queueAverageWait: queueGauge(
      'queue_average_wait_seconds',
      'Exponentially weighted average wait for a queue slot, by model.',
      (model) => model.averageWaitMs / 1000,
    ),
    queueCompleted: queueCounter(
      'queue_completed_total',
      'Calls that held and released a queue slot.',
      (model) => model.completed,
    ),
    queueRejected: counter(
      'queue_rejected_total',
      'Calls the queue refused (429), by reason: model (its waiting line full), global (the whole line full), timeout (waited too long).',
      ['model', 'reason'],
    ),
  };
}

export type MetricFamilies = ReturnType<typeof metricFamilies>;
