import type { RouteTarget, TargetState } from '../spec/router/v1/router-v1.js';

/** Whether a router may send a request to the candidate at all: healthy and its circuit not open. */
export function isRoutable(state: TargetState): boolean {
  return state.healthy && state.circuit !== 'open';
}

/**
 * Finds the candidate a target name refers to: the registered id, else the provider-local id
 * (`qwen` for `lab/qwen`). Linear: candidate lists are short, and a scan allocates nothing.
 */
export function findCandidate(candidates: readonly TargetState[], name: string): TargetState | undefined {
  for (let index = 0; index < candidates.length; index++) {
    if (candidates[index]!.model === name) return candidates[index];
  }
  for (let index = 0; index < candidates.length; index++) {
    if (candidates[index]!.info.id === name) return candidates[index];
  }
  return undefined;
}

/** Options of {@link orderTargetsByHealth}. */
export interface TargetHealthOptions {
  /**
   * Maps a target name (an alias) to the registered id whose health applies.
   * @default the name itself
   */
  resolve?: (name: string) => string | undefined;
  /**
   * What to do with a target that matches no candidate (an alias the router cannot see through):
   * `'keep'` leaves it in place, as if healthy, for the call path to resolve and protect;
   * `'skip'` drops it.
   * @default 'keep'
   */
  unknown?: 'keep' | 'skip';
}

/**
 * Keeps the given targets (as given, in order) whose candidate is routable, with half-open ones
 * first: a half-open circuit waits for one probe call, and a target put after healthy ones would
 * never get it (a fallback answers from the first that works), so it would stay shut for good. The
 * probe costs at most one failed try per cooldown. Returns the caller's target objects: nothing is
 * allocated but the output.
 */
export function orderTargetsByHealth(
  targets: readonly RouteTarget[],
  candidates: readonly TargetState[],
  options: TargetHealthOptions = {},
): RouteTarget[] {
  const output: RouteTarget[] = [];
  let halfOpen = 0;
  for (const target of targets) {
    const name = options.resolve?.(target.model) ?? target.model;
    const state = findCandidate(candidates, name);
    if (state ? !isRoutable(state) : options.unknown === 'skip') continue;
    if (state?.circuit !== 'half-open') {
      output.push(target);
    } else {
      // Half-open ones go before every other, still in the given order.
      output.splice(halfOpen, 0, target);
      halfOpen++;
    }
  }
  return output;
}

/** A target list from names or targets, built once (at router creation), not per decision. */
export function toTargets(targets: readonly (string | RouteTarget)[]): RouteTarget[] {
  return targets.map((target) => (typeof target === 'string' ? { model: target } : target));
}
