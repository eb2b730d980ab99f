import type { RouteTarget } from '../spec/router/v1/router-v1.js';

/** Why a target was started: it is the first, the previous one was slow, or the previous failed. */
export type HedgeReason = 'first' | 'delay' | 'error';

/**
 * Starts targets one after another: the first at once, each next one when the delay for the one
 * started before it passes (`delayAfter`), or at once when asked (`startNext`, after a failure).
 */
export class HedgeSchedule {
  #next = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    private readonly targets: readonly RouteTarget[],
    private readonly delayAfter: (target: RouteTarget) => number,
    private readonly onStart: (index: number, target: RouteTarget, reason: HedgeReason) => void,
  ) {}

  /** Whether every target has been started. */
  get exhausted(): boolean {
    return this.#next >= this.targets.length;
  }

  /** Starts the next target now (if any) and arms the timer for the one after it. */
  startNext(reason: HedgeReason): void {
    if (this.#stopped || this.exhausted) return;
    this.#clear();
    const index = this.#next++;
    const target = this.targets[index]!;
    if (!this.exhausted) {
      this.#timer = setTimeout(() => this.startNext('delay'), Math.max(0, this.delayAfter(target)));
    }
    this.onStart(index, target, reason);
  }

  /** Starts nothing more. */
  stop(): void {
    this.#stopped = true;
    this.#clear();
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
