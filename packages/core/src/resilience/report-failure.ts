import type { FusionError } from '../errors/fusion-error.js';
import { blamesTarget } from './blames-target.js';
import type { CircuitBreaker } from './circuit-breaker.js';

/**
 * Tells a target's breaker how an attempt that failed went. A call our own queue refused never
 * reached the target: only the probe it may hold is given back (else the circuit would wait for its
 * answer forever). An aborted call says nothing about the target; a failure that blames the target
 * counts against it; any other (a client error) shows it answering.
 */
export function reportFailure(
  breaker: CircuitBreaker,
  error: FusionError,
  how: { local: boolean; aborted: boolean },
): void {
  if (how.local) {
    if (breaker.state === 'half-open') breaker.onIgnored();
  } else if (how.aborted) breaker.onIgnored();
  else if (blamesTarget(error)) breaker.onFailure();
  else breaker.onSuccess();
}
