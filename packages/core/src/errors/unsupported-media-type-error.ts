import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** The body is not JSON. HTTP 415. */
export class UnsupportedMediaTypeError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'unsupported_media_type', status: 415, ...options, message });
    this.name = 'UnsupportedMediaTypeError';
  }
}
