import type { EventBus } from '../events/event-bus.js';
import { LatencyTracker } from '../routing/latency-tracker.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import type { RetryPolicy } from './retry-policy.js';

/** Resilience settings of every target call. */
export interface ResilienceOptions {
  retry?: RetryPolicy;
  breaker?: CircuitBreakerOptions;
  /** Weight of the newest sample in the latency averages. @default 0.2 */
  latencyAlpha?: number;
}

/**
 * What the orchestrator remembers about each target across requests: its circuit breaker and its
 * latency averages. Breakers are created on first use and report their changes on the event bus.
 */
export class TargetHealth {
  readonly latency: LatencyTracker;
  readonly retry: RetryPolicy;
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #breakerOptions: CircuitBreakerOptions;
  readonly #events: EventBus;

  constructor(events: EventBus, options: ResilienceOptions = {}) {
    this.#events = events;
    this.retry = options.retry ?? {};
    this.#breakerOptions = options.breaker ?? {};
    this.latency = new LatencyTracker(
      options.latencyAlpha === undefined ? {} : { alpha: options.latencyAlpha },
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
}
