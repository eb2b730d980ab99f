import { AbortedError } from '../errors/aborted-error.js';
import { abortReason } from '../util/abort.js';

/** The reason given to a call the strategy no longer needs (a lost race, a decided vote). */
export function notNeeded(): AbortedError {
  return new AbortedError('The strategy no longer needs this call.');
}

/**
 * The calls of one strategy run: each gets its own controller, aborted when the request aborts, when
 * the strategy drops it, or when the run ends (`dispose`). One listener on the request signal serves
 * them all.
 */
export class CallGroup {
  readonly #parent: AbortSignal;
  readonly #controllers = new Set<AbortController>();
  readonly #onAbort = () => this.abortAll(this.#parent.reason);
  #aborted: Promise<never> | undefined;
  #rejectAborted: ((error: Error) => void) | undefined;

  constructor(parent: AbortSignal) {
    this.#parent = parent;
    if (!parent.aborted) parent.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Whether the request itself was aborted (client gone, request deadline). */
  get requestAborted(): boolean {
    return this.#parent.aborted;
  }

  /** The request's abort reason as a FusionError. */
  requestAbortReason(): Error {
    return abortReason(this.#parent);
  }

  /** A controller for one call; already aborted when the request is. */
  open(): AbortController {
    const controller = new AbortController();
    if (this.#parent.aborted) controller.abort(this.#parent.reason);
    else this.#controllers.add(controller);
    return controller;
  }

  /** Forgets a controller whose call ended (nothing to abort any more). */
  close(controller: AbortController): void {
    this.#controllers.delete(controller);
  }

  /** Aborts one call. */
  abort(controller: AbortController, reason: unknown = notNeeded()): void {
    this.#controllers.delete(controller);
    controller.abort(reason);
  }

  /** Aborts every open call but one (the winner of a race). */
  abortOthers(keep: AbortController, reason: unknown = notNeeded()): void {
    for (const controller of this.#controllers) if (controller !== keep) controller.abort(reason);
    this.#controllers.clear();
    this.#controllers.add(keep);
  }

  /** Aborts every open call. */
  abortAll(reason: unknown = notNeeded()): void {
    for (const controller of this.#controllers) controller.abort(reason);
    this.#controllers.clear();
    if (this.#parent.aborted) this.#rejectAborted?.(abortReason(this.#parent));
  }

  /** A promise that rejects when the request aborts, to race waits against (never unhandled). */
  whenRequestAborted(): Promise<never> {
    if (!this.#aborted) {
      this.#aborted = this.#parent.aborted
        ? Promise.reject(abortReason(this.#parent))
        : new Promise<never>((_resolve, reject) => {
            this.#rejectAborted = reject;
          });
      this.#aborted.catch(() => {});
    }
    return this.#aborted;
  }

  /** Ends the run: aborts whatever still runs and stops listening to the request. */
  dispose(): void {
    this.abortAll();
    this.#parent.removeEventListener('abort', this.#onAbort);
  }
}
