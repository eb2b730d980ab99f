import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** The in-process runtime serving the model crashed during the request. HTTP 503. */
export class ModelCrashedError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'model_crashed', status: 503, ...options, message });
    this.name = 'ModelCrashedError';
  }
}
