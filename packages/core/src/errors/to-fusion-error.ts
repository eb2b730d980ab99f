import { AbortedError } from './aborted-error.js';
import { FusionError } from './fusion-error.js';
import { TimeoutError } from './timeout-error.js';

/**
 * Converts anything thrown into a {@link FusionError}. Called once, at the boundary; unknown errors
 * become a 500 `internal_error` whose message does not leak internals.
 */
export function toFusionError(error: unknown): FusionError {
  if (FusionError.isInstance(error)) return error;
  if (error instanceof Error && error.name === 'TimeoutError') {
    // `AbortSignal.timeout()` fired: a deadline passed, the client did not go away.
    return new TimeoutError(error.message || 'The request took longer than its deadline.', { cause: error });
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return new AbortedError(error.message || 'The request was aborted.', { cause: error });
  }
  return new FusionError({
    code: 'internal_error',
    status: 500,
    message: 'The orchestrator failed to handle the request.',
    cause: error,
    isRetryable: false,
  });
}
