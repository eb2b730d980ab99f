import { TimeoutError } from '../errors/timeout-error.js';

/**
 * The error of a passed deadline; its code says which (`timeout_total`, `timeout_first_token`,
 * `timeout_idle`, `timeout_response`: a non-streamed answer that did not arrive in time).
 */
export function callTimeout(kind: 'total' | 'first token' | 'idle' | 'response', ms: number): TimeoutError {
  const what =
    kind === 'total'
      ? 'The call'
      : kind === 'first token'
        ? 'The first token'
        : kind === 'idle'
          ? 'The next chunk'
          : 'The answer';
  return new TimeoutError(`${what} took longer than ${ms} ms.`, {
    code: `timeout_${kind.replace(' ', '_')}`,
  });
}
