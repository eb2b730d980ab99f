import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** No route at that path. HTTP 404. */
export class NotFoundError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'not_found', status: 404, ...options, message });
    this.name = 'NotFoundError';
  }
}
