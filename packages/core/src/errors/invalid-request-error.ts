import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** The request is malformed or breaks the schema; `param` names the field. HTTP 400. */
export class InvalidRequestError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'invalid_request', status: 400, ...options, message });
    this.name = 'InvalidRequestError';
  }
}
