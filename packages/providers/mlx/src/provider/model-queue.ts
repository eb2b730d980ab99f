/**
 * One generation at a time per model, with a bounded line: in-process models run one request
 * after the other (the worker is one process), so waiting requests queue here, in order, and are
 * refused with 429 when the line is full. A waiting request whose signal aborts leaves the line.
 */
import { QueueFullError } from '@fusionkit/core';
import { abortReason } from '@fusionkit/core/internal';

interface Waiter {
  resolve(release: () => void): void;
  reject(error: Error): void;
}

export class ModelQueue {
  #busy = false;
  readonly #waiting: Waiter[] = [];

  constructor(
    readonly model: string,
    readonly maxWaiting: number,
  ) {}

  get waiting(): number {
    return this.#waiting.length;
  }

  get running(): number {
    return this.#busy ? 1 : 0;
  }

  /** Waits for the model's turn; resolves with the function that ends it. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve(this.#release());
    }
    if (this.#waiting.length >= this.maxWaiting) {
      return Promise.reject(
        new QueueFullError(
          `Model '${this.model}' already has ${this.#waiting.length} requests waiting; retry shortly.`,
          { retryAfterMs: 1000 },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        reject,
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(waiter);
        if (index !== -1) this.#waiting.splice(index, 1);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #release(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next.resolve(this.#release());
      else this.#busy = false;
    };
  }
}
