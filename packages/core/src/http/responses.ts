import type { FusionError } from '../errors/fusion-error.js';
import { JsonTextResponse } from './json-text-response.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON response carrying the request id. */
export function jsonResponse(
  body: unknown,
  status: number,
  requestId: string,
  headers?: Record<string, string>,
): Response {
  return new JsonTextResponse(JSON.stringify(body), {
    status,
    headers: { 'content-type': JSON_TYPE, 'x-request-id': requestId, ...headers },
  });
}

/** Response headers that belong to an error (a fused request's trace id), by error. */
const headersOfErrors = new WeakMap<object, Record<string, string>>();

/**
 * Marks an error with headers its response must carry, such as the trace id of a fused request
 * that failed (the case where the trace matters most). Returns the error, to rethrow.
 */
export function withErrorHeaders(error: unknown, headers: Record<string, string>): unknown {
  if (typeof error === 'object' && error !== null) {
    headersOfErrors.set(error, { ...headersOfErrors.get(error), ...headers });
  }
  return error;
}

/** The headers {@link withErrorHeaders} attached to an error, if any. */
export function errorHeaders(error: unknown): Record<string, string> | undefined {
  return typeof error === 'object' && error !== null ? headersOfErrors.get(error) : undefined;
}

/**
 * The error's body (OpenAI's, unless `formatError` makes another) with the error's status,
 * `x-request-id` and, when known, `Retry-After`.
 */
export function errorResponse(
  error: FusionError,
  requestId: string,
  headers?: Record<string, string>,
  formatError?: (error: FusionError) => unknown,
): Response {
  const extra: Record<string, string> = { ...headers };
  if (error.retryAfterMs !== undefined)
    extra['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  // 499 is not a status the Fetch API accepts; a client that went away reads nothing anyway.
  const status = error.status >= 200 && error.status <= 599 && error.status !== 499 ? error.status : 400;
  return jsonResponse(formatError ? formatError(error) : error.toJSON(), status, requestId, extra);
}
