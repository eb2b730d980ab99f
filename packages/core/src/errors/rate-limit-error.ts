import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** An API key used up its requests or tokens for now. HTTP 429 with `Retry-After`. */
export class RateLimitError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'rate_limit_exceeded', status: 429, ...options, message });
    this.name = 'RateLimitError';
  }
}
