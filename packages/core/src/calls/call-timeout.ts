import { TimeoutError } from '../errors/timeout-error.js';

/** The error of a passed deadline; its code says which (`timeout_total`, `timeout_first_token`, `timeout_idle`). */
export function callTimeout(kind: 'total' | 'first token' | 'idle', ms: number): TimeoutError {
  const what = kind === 'total' ? 'The call' : kind === 'first token' ? 'The first token' : 'The next chunk';
  return new TimeoutError(`${what} took longer than ${ms} ms.`, {
    code: `timeout_${kind.replace(' ', '_')}`,
  });
}
