import { callTimeout } from './call-timeout.js';

/** The limits a {@link StreamWatchdog} enforces, ms. */
export interface StreamLimits {
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
}

/**
 * First-token and idle timeouts with one timer: chunks only record a timestamp, and the timer
 * re-arms itself for the remaining time when it fires early. Cheaper than a timer per chunk.
 */
export class StreamWatchdog {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #startAt = 0;
  #lastAt = 0;
  #gotToken = false;

  constructor(
    private readonly link: { abort(reason?: unknown): void },
    private readonly options: StreamLimits,
  ) {}

  start(): void {
    this.#startAt = performance.now();
    this.#lastAt = this.#startAt;
    this.#arm(this.options.firstTokenTimeoutMs);
  }

  firstToken(): void {
    this.#gotToken = true;
    this.#lastAt = performance.now();
    // The timer was armed for the first-token limit; from now on the (usually shorter) idle limit
    // applies, so re-arm once, or a stall would go unnoticed until the first-token limit passed.
    this.stop();
    this.#arm(this.options.idleTimeoutMs);
  }

  chunk(): void {
    this.#lastAt = performance.now();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#check(), ms);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #check(): void {
    const limit = this.#gotToken ? this.options.idleTimeoutMs : this.options.firstTokenTimeoutMs;
    // Before the first token, role-only chunks do not reset the clock.
    const elapsed = performance.now() - (this.#gotToken ? this.#lastAt : this.#startAt);
    if (elapsed >= limit) {
      this.link.abort(callTimeout(this.#gotToken ? 'idle' : 'first token', limit));
      return;
    }
    this.#arm(limit - elapsed);
  }
}
