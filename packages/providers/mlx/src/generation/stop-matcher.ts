/**
 * Stop strings over streamed text: text that could still become a stop string is held back until
 * it either completes one (generation ends there, the stop string itself is not returned) or
 * cannot anymore.
 */
export class StopMatcher {
  readonly #stops: string[];
  #pending = '';

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((stop) => stop.length > 0);
  }

  /** Adds generated text; returns what may be emitted and whether a stop string was reached. */
  push(text: string): { text: string; stopped: boolean } {
    if (this.#stops.length === 0) return { text, stopped: false };
    this.#pending += text;
    let first = -1;
    for (const stop of this.#stops) {
      const at = this.#pending.indexOf(stop);
      if (at !== -1 && (first === -1 || at < first)) first = at;
    }
    if (first !== -1) {
      const out = this.#pending.slice(0, first);
      this.#pending = '';
      return { text: out, stopped: true };
    }
    const hold = this.#heldLength();
    const out = this.#pending.slice(0, this.#pending.length - hold);
    this.#pending = this.#pending.slice(this.#pending.length - hold);
    return { text: out, stopped: false };
  }

  /** Text held back when generation ends for another reason. */
  flush(): string {
    const out = this.#pending;
    this.#pending = '';
    return out;
  }

  /** Length of the longest end of the pending text that starts some stop string. */
  #heldLength(): number {
    let longest = 0;
    for (const stop of this.#stops) {
      for (let length = Math.min(stop.length - 1, this.#pending.length); length > longest; length--) {
        if (this.#pending.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
