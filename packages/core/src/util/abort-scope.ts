import { abortReason } from './abort.js';

/**
 * The cancellation of one call: its own signal, aborted when the parent signal aborts, when the
 * timeout passes, or by `abort()`. `whenAborted()` gives a promise to race work against without
 * adding a listener per race (on Node 20 each `addEventListener` on a signal costs microseconds,
 * and this runs several times per request).
 */
export class AbortScope {
  readonly #controller = new AbortController();
  #removeParentListeners: (() => void)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #aborted: Promise<never> | undefined;
  #rejectAborted: ((error: Error) => void) | undefined;

  constructor(parent?: AbortSignal, timeoutMs?: number, onTimeout?: () => Error) {
    if (parent?.aborted) {
      this.abort(parent.reason);
      return;
    }
    if (parent) this.follow(parent);
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      this.#timer = setTimeout(() => this.abort(onTimeout?.()), timeoutMs);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** Aborts this scope too when `signal` aborts (a per-call signal on top of the request's). */
  follow(signal: AbortSignal): void {
    if (this.isAborted) return;
    if (signal.aborted) {
      this.abort(signal.reason);
      return;
    }
    const listener = () => this.abort(signal.reason);
    signal.addEventListener('abort', listener, { once: true });
    this.#removeParentListeners.push(() => signal.removeEventListener('abort', listener));
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get isAborted(): boolean {
    return this.#controller.signal.aborted;
  }

  abort(reason?: unknown): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(reason);
    this.#rejectAborted?.(abortReason(this.#controller.signal));
    this.dispose();
  }

  /** A promise that rejects with the abort reason (a FusionError) once the scope aborts. */
  whenAborted(): Promise<never> {
    if (!this.#aborted) {
      this.#aborted = this.isAborted
        ? Promise.reject(abortReason(this.signal))
        : new Promise<never>((_resolve, reject) => {
            this.#rejectAborted = reject;
          });
      // Racing is optional: an abort nobody raced must not be an unhandled rejection.
      this.#aborted.catch(() => {});
    }
    return this.#aborted;
  }

  /** Stops listening to the parent and the clock. The signal keeps its state. */
  dispose(): void {
    for (const remove of this.#removeParentListeners) remove();
    this.#removeParentListeners.length = 0;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Settles like `promise`, or rejects with the scope's abort reason if the scope aborts first. */
export function raceScope<TValue>(promise: Promise<TValue>, scope: AbortScope): Promise<TValue> {
  if (scope.isAborted) {
    promise.catch(() => {});
    return scope.whenAborted();
  }
  return Promise.race([promise, scope.whenAborted()]);
}
