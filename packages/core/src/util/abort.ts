import { AbortedError } from '../errors/aborted-error.js';
import { FusionError } from '../errors/fusion-error.js';
import { TimeoutError } from '../errors/timeout-error.js';

/** Throws the signal's reason as a FusionError when it has aborted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortReason(signal);
}

/** The abort reason of a signal as a FusionError (an {@link AbortedError} unless a FusionError was given). */
export function abortReason(signal: AbortSignal): FusionError {
  return abortReasonOf(signal.reason);
}

/** An abort reason (`AbortSignal.reason`) as a FusionError, as {@link abortReason} gives it. */
export function abortReasonOf(reason: unknown): FusionError {
  // Not "any error with a `code`": a DOMException has a numeric one, and must not escape unconverted.
  if (FusionError.isInstance(reason)) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new TimeoutError('The request took longer than its deadline.', { cause: reason });
  }
  return new AbortedError('The request was aborted.', { cause: reason });
}

/**
 * A controller whose signal aborts when any parent aborts or the timeout passes. `dispose()` drops
 * the timer and the parent listeners, so long-lived parents don't accumulate them.
 */
export function linkedAbort(
  parents: readonly (AbortSignal | undefined)[],
  timeoutMs?: number,
  onTimeout?: () => Error,
): { signal: AbortSignal; abort(reason?: unknown): void; dispose(): void } {
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      controller.abort(parent.reason);
      break;
    }
    const listener = () => controller.abort(parent.reason);
    parent.addEventListener('abort', listener, { once: true });
    cleanups.push(() => parent.removeEventListener('abort', listener));
  }
  if (timeoutMs !== undefined && Number.isFinite(timeoutMs) && !controller.signal.aborted) {
    const timer = setTimeout(
      () => controller.abort(onTimeout?.() ?? new TimeoutError(`Timed out after ${timeoutMs} ms.`)),
      timeoutMs,
    );
    (timer as { unref?: () => void }).unref?.();
    cleanups.push(() => clearTimeout(timer));
  }
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose: () => {
      for (const cleanup of cleanups) cleanup();
      cleanups.length = 0;
    },
  };
}
