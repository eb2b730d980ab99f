import type { EventBus } from '../events/event-bus.js';
import { LatencyTracker } from '../routing/latency-tracker.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import type { RetryPolicy } from './retry-policy.js';

/**
 * Resilience settings of every call: of targets inside pipelines, and of models called by name.
 * `createFusion({ resilience: false })` turns retries and circuit breakers off everywhere.
 */
export interface ResilienceOptions {
  /** Retries with backoff; `false` makes every call a single attempt. @default 2 retries, 250 ms doubling */
  retry?: RetryPolicy | false;
  /** A circuit breaker per target; `false` never opens one. @default 5 in a row or 50% of 20 */
  breaker?: CircuitBreakerOptions | false;
  /**
   * Whether a model called by name (not through a pipeline) gets the retries and circuit breaker
   * too. Its first-token, idle and response timeouts apply either way.
   * @default true
   */
  modelCalls?: boolean;
  /** Weight of the newest sample in the latency averages. @default 0.2 */
  latencyAlpha?: number;
}

/** A breaker that never opens, for `breaker: false`: the call path stays the same. */
const NEVER_OPENS: CircuitBreakerOptions = {
  consecutiveFailures: Number.POSITIVE_INFINITY,
  failureRate: Number.POSITIVE_INFINITY,
};

/**
 * What the orchestrator remembers about each target across requests: its circuit breaker and its
 * latency averages. Breakers are created on first use and report their changes on the event bus.
 */
export class TargetHealth {
  readonly latency: LatencyTracker;
  readonly retry: RetryPolicy;
  /** Whether models called by name get retries and a breaker (`ResilienceOptions.modelCalls`). */
  readonly modelCalls: boolean;
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #breakerOptions: CircuitBreakerOptions;
  readonly #events: EventBus;

  constructor(events: EventBus, options: ResilienceOptions | false = {}) {
    const settings: ResilienceOptions =
      options === false ? { retry: false, breaker: false, modelCalls: false } : options;
    this.#events = events;
    this.retry = settings.retry === false ? { maxRetries: 0 } : (settings.retry ?? {});
    this.#breakerOptions = settings.breaker === false ? NEVER_OPENS : (settings.breaker ?? {});
    this.modelCalls = settings.modelCalls ?? true;
    this.latency = new LatencyTracker(
      settings.latencyAlpha === undefined ? {} : { alpha: settings.latencyAlpha },
    );
  }

  breaker(model: string): CircuitBreaker {
    let breaker = this.#breakers.get(model);
    if (!breaker) {
      breaker = new CircuitBreaker(this.#breakerOptions, (state) => {
        const name =
          state === 'open' ? 'breaker:open' : state === 'closed' ? 'breaker:close' : 'breaker:half-open';
        this.#events.emit(name, { model });
      });
      this.#breakers.set(model, breaker);
    }
    return breaker;
  }

  /** The circuit state of a model, `closed` when it never had a breaker. */
  circuit(model: string): CircuitBreaker['state'] {
    return this.#breakers.get(model)?.state ?? 'closed';
  }

  /**
   * The circuit state routers see: half-open only while its probe is free (a router then sends the
   * probe first, so a recovered target gets its traffic back); with the probe out, open.
   */
  routingCircuit(model: string): CircuitBreaker['state'] {
    const breaker = this.#breakers.get(model);
    if (!breaker) return 'closed';
    const state = breaker.state;
    return state === 'half-open' && breaker.probing ? 'open' : state;
  }

  /** Milliseconds until the circuit of a model lets a call through again, 0 when it does now. */
  retryAfterMs(model: string): number {
    return this.#breakers.get(model)?.retryAfterMs ?? 0;
  }
}
