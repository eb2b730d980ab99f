import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** No target can serve the request now (unhealthy, circuit open, shutting down, no route). HTTP 503. */
export class UnavailableError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'unavailable', status: 503, ...options, message });
    this.name = 'UnavailableError';
  }
}
