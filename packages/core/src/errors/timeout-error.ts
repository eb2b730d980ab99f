import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** A deadline passed (first token, idle between chunks, or total). HTTP 504. */
export class TimeoutError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'timeout', status: 504, ...options, message });
    this.name = 'TimeoutError';
  }
}
