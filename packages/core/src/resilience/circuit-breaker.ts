/** When a {@link CircuitBreaker} opens and how it recovers. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  consecutiveFailures?: number;
  /** Failure share over the window that opens the circuit, 0 to 1. @default 0.5 */
  failureRate?: number;
  /** Calls the failure rate is computed over (the most recent ones). @default 20 */
  windowSize?: number;
  /** Calls the window must hold before the failure rate counts. @default 10 */
  minimumCalls?: number;
  /** How long the circuit stays open before one probe call is let through, ms. @default 30000 */
  cooldownMs?: number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * A circuit breaker of one target. Closed: calls pass and outcomes are counted. Open (after
 * `consecutiveFailures` in a row, or a failure rate over the window): calls are refused until
 * `cooldownMs` has passed. Half-open: one probe passes; its success closes the circuit, its failure
 * opens it again for another cooldown.
 */
export class CircuitBreaker {
  readonly #options: Required<CircuitBreakerOptions>;
  readonly #onChange: ((state: CircuitState) => void) | undefined;
  readonly #now: () => number;
  #state: CircuitState = 'closed';
  #consecutive = 0;
  /** Ring of recent outcomes, true for a failure. */
  readonly #window: boolean[] = [];
  #windowFailures = 0;
  #openedAt = 0;
  #probing = false;

  constructor(
    options: CircuitBreakerOptions = {},
    onChange?: (state: CircuitState) => void,
    now: () => number = Date.now,
  ) {
    this.#options = {
      consecutiveFailures: options.consecutiveFailures ?? 5,
      failureRate: options.failureRate ?? 0.5,
      windowSize: options.windowSize ?? 20,
      minimumCalls: options.minimumCalls ?? 10,
      cooldownMs: options.cooldownMs ?? 30_000,
    };
    this.#onChange = onChange;
    this.#now = now;
  }

  /** The state now; an open circuit whose cooldown has passed reads as half-open. */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#options.cooldownMs)
      return 'half-open';
    return this.#state;
  }

  /** Milliseconds until an open circuit lets a probe through (0 when not open). */
  get retryAfterMs(): number {
    if (this.#state !== 'open') return 0;
    return Math.max(0, this.#options.cooldownMs - (this.#now() - this.#openedAt));
  }

  /** Whether the one probe of a half-open circuit is out: until it ends, calls are refused. */
  get probing(): boolean {
    return this.#probing;
  }

  /** Whether a call may go now. In half-open, only the first caller gets the probe. */
  tryPass(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open') return false;
    if (this.#probing) return false;
    this.#probing = true;
    this.#set('half-open');
    return true;
  }

  onSuccess(): void {
    this.#consecutive = 0;
    this.#record(false);
    if (this.#state !== 'closed') {
      this.#probing = false;
      this.#window.length = 0;
      this.#windowFailures = 0;
      this.#set('closed');
    }
  }

  onFailure(): void {
    this.#consecutive++;
    this.#record(true);
    if (this.#state === 'half-open') {
      this.#probing = false;
      this.#open();
      return;
    }
    if (this.#state !== 'closed') return;
    const { consecutiveFailures, failureRate, minimumCalls } = this.#options;
    const rate = this.#window.length >= minimumCalls ? this.#windowFailures / this.#window.length : 0;
    if (this.#consecutive >= consecutiveFailures || rate >= failureRate) this.#open();
  }

  /** A probe that ended without an outcome (aborted by the client) gives the probe back. */
  onIgnored(): void {
    this.#probing = false;
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#set('open');
  }

  #record(failed: boolean): void {
    this.#window.push(failed);
    if (failed) this.#windowFailures++;
    if (this.#window.length > this.#options.windowSize && this.#window.shift()) this.#windowFailures--;
  }

  #set(state: CircuitState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#onChange?.(state);
  }
}
