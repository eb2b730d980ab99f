import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** No model, alias or pipeline has that name. HTTP 404. */
export class ModelNotFoundError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'model_not_found', status: 404, param: 'model', ...options, message });
    this.name = 'ModelNotFoundError';
  }
}
