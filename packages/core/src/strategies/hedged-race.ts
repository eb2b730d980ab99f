import type { RouteTarget } from '../spec/router/v1/router-v1.js';
import type { CallGroup } from './call-group.js';

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

/** One started target of a race. */
export interface Contender {
  index: number;
  target: RouteTarget;
  controller: AbortController;
  /** `performance.now()` at its start. */
  startedAt: number;
}

/** What {@link runHedgedRace} needs. */
export interface HedgedRaceOptions<TValue> {
  targets: readonly RouteTarget[];
  group: CallGroup;
  /** Delay after starting a target before the next one starts, ms. */
  delayAfter: (target: RouteTarget) => number;
  /** Starts one contender; must settle once its controller aborts. */
  launch: (contender: Contender, role: 'primary' | 'hedge') => Promise<TValue>;
  /** Receives a loser that still resolved after the winner (to close it). */
  discard?: (value: TValue) => void;
  /** Each hedge is appended here, for the trace. */
  hedges: Record<string, unknown>[];
  /** Called as each hedge starts. */
  onHedge?: (target: string, afterMs: number) => void;
}

/** The winner of a race, and the contenders still running when it won (aborted since). */
export interface HedgedRaceResult<TValue> {
  value: TValue;
  contender: Contender;
  losers: Contender[];
}

/**
 * Starts targets on the hedge schedule until one contender's `launch` resolves (the winner) or all
 * have failed (rejects with the last error). The losers are aborted at once; the winner's controller
 * stays open in the group (its stream may still run). A request abort rejects with its reason.
 */
export function runHedgedRace<TValue>(options: HedgedRaceOptions<TValue>): Promise<HedgedRaceResult<TValue>> {
  const { group, hedges } = options;
  const raceStart = performance.now();
  return new Promise((resolve, reject) => {
    let running = 0;
    const active = new Set<Contender>();
    let done = false;
    let lastError: unknown;
    const end = () => {
      done = true;
      schedule.stop();
    };
    const onStart = (index: number, target: RouteTarget, reason: HedgeReason) => {
      if (index > 0) {
        const atMs = Math.round(performance.now() - raceStart);
        hedges.push({ target: target.model, reason, atMs });
        options.onHedge?.(target.model, atMs);
      }
      const contender: Contender = { index, target, controller: group.open(), startedAt: performance.now() };
      running++;
      active.add(contender);
      let attempt: Promise<TValue>;
      try {
        attempt = options.launch(contender, index === 0 ? 'primary' : 'hedge');
      } catch (error) {
        attempt = Promise.reject(error);
      }
      attempt.then(
        (value) => {
          running--;
          active.delete(contender);
          if (done) return options.discard?.(value);
          end();
          group.abortOthers(contender.controller);
          resolve({ value, contender, losers: [...active] });
        },
        (error: unknown) => {
          running--;
          active.delete(contender);
          group.close(contender.controller);
          if (done) return;
          lastError = error;
          if (!schedule.exhausted) schedule.startNext('error');
          else if (running === 0) {
            end();
            reject(lastError);
          }
        },
      );
    };
    const schedule = new HedgeSchedule(options.targets, options.delayAfter, onStart);
    group.whenRequestAborted().catch((error: unknown) => {
      if (done) return;
      end();
      reject(error);
    });
    schedule.startNext('first');
  });
}
