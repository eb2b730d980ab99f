import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** The path exists but not for that method. HTTP 405. */
export class MethodNotAllowedError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'method_not_allowed', status: 405, ...options, message });
    this.name = 'MethodNotAllowedError';
  }
}
