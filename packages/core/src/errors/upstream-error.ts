import { FusionError, type FusionErrorOptions } from './fusion-error.js';

/** An upstream model server failed. The status says how: 502 when it answered badly, or the upstream client error mapped through. HTTP 502 by default. */
export class UpstreamError extends FusionError {
  constructor(message: string, options: Partial<FusionErrorOptions> = {}) {
    super({ code: 'upstream_error', status: 502, ...options, message });
    this.name = 'UpstreamError';
  }
}
