import type { FusionError } from '../errors/fusion-error.js';

/**
 * Whether a failure says something about the target (and so counts against its circuit): it failed,
 * was overloaded or too slow. A client error (400, 404) says nothing about the target's health.
 */
export function blamesTarget(error: FusionError): boolean {
  return error.status >= 500 || error.status === 429 || error.status === 408;
}
