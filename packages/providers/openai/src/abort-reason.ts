import { AbortedError, FusionError, TimeoutError } from '@fusionkit/core';

/**
 * The error to throw when a call's signal aborts: the signal's reason when it is already a
 * FusionError (a deadline the orchestrator set, for example), a {@link TimeoutError} for
 * `AbortSignal.timeout()`, an {@link AbortedError} otherwise.
 */
export function abortReason(signal: { readonly reason: unknown }): FusionError {
  const reason: unknown = signal.reason;
  if (FusionError.isInstance(reason)) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new TimeoutError('The request took longer than its deadline.', { cause: reason });
  }
  return new AbortedError('The request was aborted.', { cause: reason });
}
