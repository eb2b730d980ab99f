import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_REQUEST_ID_LENGTH = 128;
const SAFE_REQUEST_ID = /^[\w.:@/+=-]+$/;

/** An error the adapter answers itself, before or instead of the orchestrator. */
export interface AdapterError {
  status: number;
  /** @example 'payload_too_large' */
  code: string;
  message: string;
  /** @default derived from `status` */
  type?: string;
}

/** The client's `x-request-id` when it is safe to echo (the core's rule), else a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' &&
    incoming.length <= MAX_REQUEST_ID_LENGTH &&
    SAFE_REQUEST_ID.test(incoming)
    ? incoming
    : randomUUID();
}

/**
 * Answers with OpenAI's error body and `x-request-id`. `closeConnection` is for answers sent while
 * the request body is still unread: it would otherwise be taken for the start of the next request.
 */
export function writeError(
  request: IncomingMessage,
  response: ServerResponse,
  error: AdapterError,
  closeConnection = false,
  /** The route's error body for `error`, when it has a shape of its own (see `FusionLike.errorBody`). */
  errorBody?: (error: AdapterError & { type: string }) => unknown,
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const type = error.type ?? (error.status >= 500 ? 'server_error' : 'invalid_request_error');
  const body = JSON.stringify(
    errorBody?.({ ...error, type }) ?? {
      error: { message: error.message, type, code: error.code, param: null },
    },
  );
  response.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestIdOf(request),
    ...(closeConnection ? { connection: 'close' } : {}),
  });
  response.end(body);
}
