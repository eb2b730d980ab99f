import { UnavailableError } from '../errors/unavailable-error.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { TargetHealth } from './target-health.js';

/**
 * The breaker of a model, once it lets a call through; else throws `circuit_open` (503) with the
 * cooldown really left as its `Retry-After`.
 */
export function enterCircuit(health: TargetHealth, model: string): CircuitBreaker {
  const breaker = health.breaker(model);
  if (!breaker.tryPass()) {
    throw new UnavailableError(`The circuit of '${model}' is open after repeated failures.`, {
      code: 'circuit_open',
      // A probe in flight leaves no cooldown to wait for: its answer is due any moment.
      retryAfterMs: Math.max(breaker.retryAfterMs, 1000),
    });
  }
  return breaker;
}
