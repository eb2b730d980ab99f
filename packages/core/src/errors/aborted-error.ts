import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** The client went away or the call was cancelled. Never retried. HTTP 499 (nginx: client closed request). */
export class AbortedError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'aborted', status: 499, isRetryable: false, ...options, message });
    this.name = 'AbortedError';
  }
}
