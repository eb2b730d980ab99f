import { type FusionError, UnavailableError } from '@fusionkit/core';

/** Socket errors that mean "the request never reached a live server, or the server went away". */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Converts a socket or DNS error of an upstream request (connection refused, reset, host not
 * found...) into a retryable {@link UnavailableError}: another attempt, or another target, may work.
 */
export function toTransportError(error: unknown, providerId: string): FusionError {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return new UnavailableError(`The upstream of provider '${providerId}' is unreachable (${reason}).`, {
    cause: error,
    isRetryable: true,
  });
}

/**
 * True when a request failed because the server closed a pooled keep-alive connection just as it
 * was reused; the request never reached the server, so sending it again on a new socket is safe.
 */
export function isStaleSocketError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STALE_SOCKET_CODES.has(code);
}
