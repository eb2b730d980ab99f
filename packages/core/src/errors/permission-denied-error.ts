import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** The request is refused whoever sends it this way (a host or origin not allowed). HTTP 403. */
export class PermissionDeniedError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'forbidden', status: 403, ...options, message });
    this.name = 'PermissionDeniedError';
  }
}
