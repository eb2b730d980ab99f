/**
 * The last `size` latencies of one target, for quantiles (the race strategy hedges after the observed
 * p95). A ring buffer: recording allocates nothing.
 */
export class LatencyWindow {
  readonly #values: Float64Array;
  #count = 0;
  #next = 0;

  constructor(size = 50) {
    this.#values = new Float64Array(Math.max(1, size));
  }

  /** How many latencies it holds. */
  get size(): number {
    return this.#count;
  }

  add(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    this.#values[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#values.length;
    if (this.#count < this.#values.length) this.#count++;
  }

  /** The q-quantile (nearest rank) of what it holds, or `undefined` when empty. */
  quantile(q: number): number | undefined {
    if (this.#count === 0) return undefined;
    const sorted = this.#values.slice(0, this.#count).sort();
    const rank = Math.min(this.#count, Math.max(1, Math.ceil(q * this.#count)));
    return sorted[rank - 1];
  }
}
