import type { TargetState } from '../spec/router/v1/router-v1.js';

/** Options of {@link LatencyTracker}. */
export interface LatencyTrackerOptions {
  /**
   * Weight of the newest sample in each moving average, in (0, 1]: higher follows changes faster,
   * lower smooths more. 0.2 weighs roughly the last 10 calls.
   * @default 0.2
   */
  alpha?: number;
}

/** One call's timings, ms. */
export interface LatencySample {
  /** Time to the first content token (streams). */
  firstTokenMs?: number;
  /** Time to the end of the answer. */
  totalMs?: number;
}

const unmeasured: TargetState['latency'] = Object.freeze({});

/**
 * Exponentially weighted moving averages of time to first token and total time, per model. The call
 * path records every successful call here and reads {@link LatencyTracker.get} into
 * `TargetState.latency`, which the latency router ranks by.
 *
 * @example
 * const tracker = new LatencyTracker({ alpha: 0.3 });
 * tracker.record('lab/qwen', { firstTokenMs: 120, totalMs: 900 });
 * tracker.get('lab/qwen'); // { firstTokenMs: 120, totalMs: 900 }
 */
export class LatencyTracker {
  readonly alpha: number;
  readonly #averages = new Map<string, { firstTokenMs?: number; totalMs?: number }>();

  constructor(options: LatencyTrackerOptions = {}) {
    const alpha = options.alpha ?? 0.2;
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError('LatencyTracker: alpha must be in (0, 1]');
    this.alpha = alpha;
  }

  /** Adds one call's timings; missing, negative or non-finite values are ignored. */
  record(model: string, sample: LatencySample): void {
    let averages = this.#averages.get(model);
    if (!averages) this.#averages.set(model, (averages = {}));
    averages.firstTokenMs = this.#update(averages.firstTokenMs, sample.firstTokenMs);
    averages.totalMs = this.#update(averages.totalMs, sample.totalMs);
  }

  /**
   * The model's averages, `{}` before its first call. The object is live (updated in place by
   * `record`): read it, don't keep or change it.
   */
  get(model: string): TargetState['latency'] {
    return this.#averages.get(model) ?? unmeasured;
  }

  /** Forgets one model (it was unregistered or reloaded), or every model. */
  reset(model?: string): void {
    if (model === undefined) this.#averages.clear();
    else this.#averages.delete(model);
  }

  #update(average: number | undefined, value: number | undefined): number | undefined {
    if (value === undefined || !(value >= 0) || !Number.isFinite(value)) return average;
    return average === undefined ? value : average + this.alpha * (value - average);
  }
}
