/** Largest request body accepted when neither the options nor the orchestrator say otherwise (as the core). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The error a request body stream fails with once it passes the limit. It carries the name, `status`
 * and `code` of the core's `PayloadTooLargeError`, which is how the core recognises it without this
 * package depending on the core.
 */
export class BodyTooLargeError extends Error {
  readonly status = 413;
  readonly code = 'payload_too_large';
  readonly type = 'invalid_request_error';
  readonly param = null;

  constructor(readonly limit: number) {
    super(`The request body is larger than the limit of ${limit} bytes.`);
    this.name = 'PayloadTooLargeError';
  }
}
