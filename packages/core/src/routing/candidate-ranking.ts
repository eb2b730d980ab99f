import type { RouteTarget, TargetState } from '../spec/router/v1/router-v1.js';
import { isRoutable } from './route-health.js';

/**
 * Scores a candidate; lower ranks first. Return `NaN` to leave the candidate out. `Infinity` ranks
 * last among its health tier.
 */
export type CandidateScore = (state: TargetState, index: number) => number;

/**
 * Orders routable candidates by health tier (half-open before closed, so the probe a half-open
 * circuit waits for is sent and a recovered target gets its traffic back), then by score, lowest first;
 * equal scores keep candidate order (insertion sort: stable and fastest for the short lists routers
 * see). Its scratch buffers are reused across decisions, so a decision allocates only its output.
 * `rank` is synchronous, so one instance per router is safe.
 */
export class CandidateRanking {
  #order = new Int32Array(16);
  #keys = new Float64Array(16);
  #tiers = new Uint8Array(16);

  rank(candidates: readonly TargetState[], score: CandidateScore): RouteTarget[] {
    if (candidates.length > this.#order.length) this.#grow(candidates.length);
    const order = this.#order;
    const keys = this.#keys;
    const tiers = this.#tiers;
    let count = 0;
    for (let index = 0; index < candidates.length; index++) {
      const state = candidates[index]!;
      if (!isRoutable(state)) continue;
      const key = score(state, index);
      if (Number.isNaN(key)) continue;
      const tier = state.circuit === 'half-open' ? 0 : 1;
      let slot = count;
      while (slot > 0) {
        const previous = slot - 1;
        if (tiers[previous]! < tier || (tiers[previous] === tier && keys[previous]! <= key)) break;
        order[slot] = order[previous]!;
        keys[slot] = keys[previous]!;
        tiers[slot] = tiers[previous]!;
        slot = previous;
      }
      order[slot] = index;
      keys[slot] = key;
      tiers[slot] = tier;
      count++;
    }
    const output = new Array<RouteTarget>(count);
    for (let slot = 0; slot < count; slot++) output[slot] = { model: candidates[order[slot]!]!.model };
    return output;
  }

  #grow(size: number): void {
    this.#order = new Int32Array(size);
    this.#keys = new Float64Array(size);
    this.#tiers = new Uint8Array(size);
  }
}
