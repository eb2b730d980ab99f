import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** Too many requests are waiting; `retryAfterMs` says when to come back. HTTP 429 with `Retry-After`. */
export class QueueFullError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'queue_full', status: 429, ...options, message });
    this.name = 'QueueFullError';
  }
}
