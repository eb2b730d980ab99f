import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** Missing or wrong API key. HTTP 401. */
export class AuthenticationError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'invalid_api_key', status: 401, ...options, message });
    this.name = 'AuthenticationError';
  }
}
