import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** The body is larger than the configured limit. HTTP 413. */
export class PayloadTooLargeError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'payload_too_large', status: 413, ...options, message });
    this.name = 'PayloadTooLargeError';
  }
}
