import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** The chosen model cannot do what the request asks (tools, json_schema, vision, n > 1). HTTP 400. */
export class UnsupportedError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'unsupported', status: 400, ...options, message });
    this.name = 'UnsupportedError';
  }
}
