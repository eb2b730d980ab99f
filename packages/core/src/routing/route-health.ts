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
 * after the others. Returns the caller's target objects: nothing is allocated but the output.
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
    if (state?.circuit === 'half-open') {
      output.push(target);
      halfOpen++;
    } else if (halfOpen === 0) {
      output.push(target);
    } else {
      // Closed (or unknown) ones go before every half-open one, still in the given order.
      output.splice(output.length - halfOpen, 0, target);
    }
  }
  return output;
}

/** A target list from names or targets, built once (at router creation), not per decision. */
export function toTargets(targets: readonly (string | RouteTarget)[]): RouteTarget[] {
  return targets.map((target) => (typeof target === 'string' ? { model: target } : target));
}
