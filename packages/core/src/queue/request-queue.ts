import { QueueFullError } from '../errors/queue-full-error.js';

/** Why the queue refused a call: its model's waiting line was full, the whole line was, or it waited too long. */
export type QueueRejectReason = 'model' | 'global' | 'timeout';

import type { QueueLimits } from '../fusion/fusion-options.js';
import { type Abortable, abortReasonOfAbortable, isAborted, onAbort } from '../util/abort-scope.js';

/** Counters of one model in the queue. */
export interface ModelQueueStats {
  running: number;
  waiting: number;
  concurrency: number;
  maxWaiting: number;
  completed: number;
  rejected: number;
  /** Exponentially weighted average time a call held its slot, ms. */
  averageHoldMs: number;
  /** Exponentially weighted average time a call waited for its slot, ms. */
  averageWaitMs: number;
}

/** What `GET /v1/queue/stats` shows. */
export interface QueueStats {
  running: number;
  waiting: number;
  concurrency: number;
  maxWaiting: number;
  models: Record<string, ModelQueueStats>;
}

interface ModelState extends ModelQueueStats {}

interface Waiter {
  model: ModelState;
  modelId: string;
  enqueuedAt: number;
  grant: (release: () => void, waitedMs: number) => void;
  fail: (error: Error) => void;
  done: boolean;
}

const EWMA_WEIGHT = 0.2;

/** Calls running at once across all models, unless configured. */
export const DEFAULT_CONCURRENCY = 10_000;

/** Where the queue learns what a model reports about itself. */
export interface RequestQueueOptions {
  /** The concurrency a model declares (`ModelInfo.concurrency`), if any. */
  concurrencyOf?: (model: string) => number | undefined;
}

/**
 * Global and per-model concurrency with bounded, time-limited waiting. `acquire` resolves with a
 * release function once the call may run; when waiting is full or takes too long it rejects with
 * {@link QueueFullError} (HTTP 429 with `Retry-After`), and an aborted signal takes the call out of
 * the line at once.
 */
export class RequestQueue {
  readonly #limits: Required<Omit<QueueLimits, 'models'>> & { models: Record<string, number> };
  readonly #models = new Map<string, ModelState>();
  readonly #waiters: Waiter[] = [];
  readonly #reportedConcurrency: ((model: string) => number | undefined) | undefined;
  #running = 0;

  constructor(limits: QueueLimits = {}, options: RequestQueueOptions = {}) {
    const concurrency = limits.concurrency ?? DEFAULT_CONCURRENCY;
    this.#reportedConcurrency = options.concurrencyOf;
    this.#limits = {
      concurrency,
      // No lower per-model default: a limit below what the upstream serves only adds waiting. Models
      // that can serve fewer say so (ModelInfo.concurrency) or are configured in `models`.
      perModelConcurrency: limits.perModelConcurrency ?? concurrency,
      models: { ...limits.models },
      maxWaiting: limits.maxWaiting ?? 1024,
      perModelMaxWaiting: limits.perModelMaxWaiting ?? 256,
      waitTimeoutMs: limits.waitTimeoutMs ?? 30_000,
    };
  }

  /** Sets the concurrency of one model (e.g. 1 for an in-process MLX model). */
  setModelConcurrency(model: string, concurrency: number): void {
    this.#limits.models[model] = concurrency;
    const state = this.#models.get(model);
    if (state) state.concurrency = concurrency;
    this.#drain();
  }

  /**
   * Waits for a slot for `model`. Resolves with the function that frees it (safe to call twice).
   * `onWaited` hears how long a call that had to wait did, and how many were waiting before it;
   * `onRejected` why a call was refused: its model's line was full, the whole line was, or it
   * waited `waitTimeoutMs` in vain.
   */
  acquire(
    model: string,
    signal?: Abortable,
    onWaited?: (waitedMs: number, queued: number) => void,
    onRejected?: (reason: QueueRejectReason) => void,
  ): Promise<() => void> {
    if (signal && isAborted(signal)) return Promise.reject(abortReasonOfAbortable(signal));
    const state = this.#state(model);
    // After every drain, each waiter is blocked (global or its model full); so when this call can run,
    // nobody it would overtake could, and it need not wait, however long the line of others is.
    if (this.#canRun(state)) return Promise.resolve(this.#take(state, 0));

    if (state.waiting >= state.maxWaiting || this.#waiters.length >= this.#limits.maxWaiting) {
      state.rejected++;
      onRejected?.(state.waiting >= state.maxWaiting ? 'model' : 'global');
      return Promise.reject(
        new QueueFullError(
          `Too many requests are waiting for '${model}' (${state.waiting} for the model, ${this.#waiters.length} in all). Retry later.`,
          { retryAfterMs: this.#retryAfterMs(state) },
        ),
      );
    }

    const queued = state.waiting;
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let stopListening: (() => void) | undefined;
      const settle = () => {
        waiter.done = true;
        state.waiting--;
        if (timer) clearTimeout(timer);
        stopListening?.();
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
      };
      const waiter: Waiter = {
        model: state,
        modelId: model,
        enqueuedAt: Date.now(),
        done: false,
        grant: (release, waitedMs) => {
          settle();
          onWaited?.(waitedMs, queued);
          resolve(release);
        },
        fail: (error) => {
          if (waiter.done) return;
          settle();
          reject(error);
          // A leaving waiter may unblock nobody, but a freed spot in the line never hurts to re-check.
          this.#drain();
        },
      };
      state.waiting++;
      this.#waiters.push(waiter);
      if (signal) stopListening = onAbort(signal, () => waiter.fail(abortReasonOfAbortable(signal)));
      timer = setTimeout(() => {
        state.rejected++;
        onRejected?.('timeout');
        waiter.fail(
          new QueueFullError(`Waited ${this.#limits.waitTimeoutMs} ms for '${model}' without a free slot.`, {
            retryAfterMs: this.#retryAfterMs(state),
          }),
        );
      }, this.#limits.waitTimeoutMs);
      (timer as { unref?: () => void }).unref?.();
      // Waiters of other models may be blocked by their own limits while this one can run now.
      this.#drain();
    });
  }

  /**
   * A slot for `model` at once, or `undefined` when the call would have to wait (then use
   * {@link RequestQueue.acquire}). Saves a promise per call when there is room.
   */
  tryAcquire(model: string): (() => void) | undefined {
    const state = this.#state(model);
    return this.#canRun(state) ? this.#take(state, 0) : undefined;
  }

  stats(): QueueStats {
    const models: Record<string, ModelQueueStats> = {};
    for (const [id, state] of this.#models) {
      models[id] = {
        running: state.running,
        waiting: state.waiting,
        concurrency: state.concurrency,
        maxWaiting: state.maxWaiting,
        completed: state.completed,
        rejected: state.rejected,
        averageHoldMs: Math.round(state.averageHoldMs * 10) / 10,
        averageWaitMs: Math.round(state.averageWaitMs * 10) / 10,
      };
    }
    return {
      running: this.#running,
      waiting: this.#waiters.length,
      concurrency: this.#limits.concurrency,
      maxWaiting: this.#limits.maxWaiting,
      models,
    };
  }

  /** Calls running and waiting for one model (for routers). */
  load(model: string): { running: number; waiting: number } {
    const state = this.#models.get(model);
    return { running: state?.running ?? 0, waiting: state?.waiting ?? 0 };
  }

  /** The configured limit, else what the model reports, else the per-model default. */
  #concurrencyFor(model: string): number {
    const reported = this.#reportedConcurrency?.(model);
    const usable = reported !== undefined && Number.isFinite(reported) && reported >= 1;
    return this.#limits.models[model] ?? (usable ? Math.floor(reported) : this.#limits.perModelConcurrency);
  }

  #state(model: string): ModelState {
    let state = this.#models.get(model);
    if (state) {
      // What a model reports may change (an upstream restarted with another limit).
      const concurrency = this.#concurrencyFor(model);
      if (concurrency !== state.concurrency) {
        state.concurrency = concurrency;
        if (state.waiting > 0) this.#drain();
      }
    } else {
      state = {
        running: 0,
        waiting: 0,
        concurrency: this.#concurrencyFor(model),
        maxWaiting: this.#limits.perModelMaxWaiting,
        completed: 0,
        rejected: 0,
        averageHoldMs: 0,
        averageWaitMs: 0,
      };
      this.#models.set(model, state);
    }
    return state;
  }

  #canRun(state: ModelState): boolean {
    return this.#running < this.#limits.concurrency && state.running < state.concurrency;
  }

  #take(state: ModelState, waitedMs: number): () => void {
    this.#running++;
    state.running++;
    state.averageWaitMs += (waitedMs - state.averageWaitMs) * EWMA_WEIGHT;
    const startedAt = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      state.running--;
      state.completed++;
      state.averageHoldMs += (Date.now() - startedAt - state.averageHoldMs) * EWMA_WEIGHT;
      this.#drain();
    };
  }

  /** Grants slots to waiters in arrival order, skipping those whose model is at its limit. */
  #drain(): void {
    for (let index = 0; index < this.#waiters.length && this.#running < this.#limits.concurrency; ) {
      const waiter = this.#waiters[index]!;
      if (waiter.model.running < waiter.model.concurrency) {
        // grant() removes the waiter from the list, so the same index now holds the next one.
        const waitedMs = Date.now() - waiter.enqueuedAt;
        waiter.grant(this.#take(waiter.model, waitedMs), waitedMs);
      } else {
        index++;
      }
    }
  }

  #retryAfterMs(state: ModelState): number {
    const perSlotMs = state.averageHoldMs || 1000;
    const estimate = ((state.waiting + 1) / Math.max(1, state.concurrency)) * perSlotMs;
    return Math.min(60_000, Math.max(1000, Math.ceil(estimate / 1000) * 1000));
  }
}
