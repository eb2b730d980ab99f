import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_MAX_BODY_BYTES } from './body-too-large-error.js';
import { closeAfterDraining, type DrainLimits } from './drain-request.js';
import type { FusionLike } from './fusion-like.js';
import { type ToRequestOptions, toRequest } from './to-request.js';
import { writeError } from './write-error.js';
import { writeResponse } from './write-response.js';

/** Options of {@link createNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * Largest request body, in bytes. A `content-length` above it is answered 413 at once, without
   * reading the body or calling `handle`; a chunked body that passes it errors mid-way.
   * @default fusion.maxBodyBytes, else 4 MiB
   */
  maxBodyBytes?: number;
  /**
   * Prefix put in front of `request.url` to build the URL `handle` sees, for frameworks that strip
   * their mount path. Nothing is stripped. @example '/ai' @default ''
   */
  basePath?: string;
  /** Take protocol and host from `x-forwarded-proto` / `x-forwarded-host` (behind a proxy you trust). @default false */
  trustProxy?: boolean;
  /**
   * An answer given before the request body has all arrived (413, 401, 403…) closes the connection,
   * after the rest of the body is read and discarded up to these limits, so that a client still
   * sending sees the answer, not a reset. @default { maxBytes: 64 MiB, timeoutMs: 10000 }
   */
  drain?: DrainLimits;
}

/**
 * A node:http request listener, also usable as Connect/Express middleware. Resolves when the response
 * is done; never rejects.
 */
export type NodeHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>;

/**
 * Serves `fusion.handle` on node:http:
 *
 * ```ts
 * http.createServer(createNodeHandler(fusion)).listen(8080);
 * ```
 *
 * `next`, when given, receives what `handle` throws (it should answer errors itself); without it the
 * handler answers 500. A request that cannot be turned into a `Request` gets 400.
 */
export function createNodeHandler(fusion: FusionLike, options: NodeHandlerOptions = {}): NodeHandler {
  const maxBodyBytes = options.maxBodyBytes ?? fusion.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const requestOptions: ToRequestOptions = {
    maxBodyBytes,
    basePath: options.basePath,
    trustProxy: options.trustProxy,
  };

  // Errors the adapter answers itself take the error shape of the route they were meant for.
  const errorBody = (request: IncomingMessage) =>
    fusion.errorBody
      ? (error: Parameters<NonNullable<FusionLike['errorBody']>>[1]) =>
          fusion.errorBody!(`${options.basePath ?? ''}${request.url ?? '/'}`, error)
      : undefined;

  return async (request, response, next) => {
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBodyBytes && !request.readableDidRead) {
      const message = `The request body is larger than the limit of ${maxBodyBytes} bytes.`;
      closeAfterDraining(request, response, options.drain);
      writeError(
        request,
        response,
        { status: 413, code: 'payload_too_large', message },
        true,
        errorBody(request),
      );
      return;
    }

    let fetchRequest: Request;
    try {
      fetchRequest = toRequest(request, response, requestOptions);
    } catch (error) {
      const message = error instanceof Error ? error.message : 'The request could not be read.';
      if (!request.complete) closeAfterDraining(request, response, options.drain);
      writeError(
        request,
        response,
        { status: 400, code: 'invalid_request', message },
        false,
        errorBody(request),
      );
      return;
    }

    let fetchResponse: Response;
    try {
      fetchResponse = await fusion.handle(fetchRequest);
    } catch (error) {
      if (next) return next(error);
      const message = 'The orchestrator failed to handle the request.';
      if (!request.complete) closeAfterDraining(request, response, options.drain);
      writeError(request, response, { status: 500, code: 'internal_error', message }, !request.complete);
      return;
    }

    // Answered before the whole body arrived: its unread rest would be parsed as the next request.
    if (!request.complete) closeAfterDraining(request, response, options.drain);
    // Returned, not awaited: a stream's response holds no frame of this function while it lasts.
    return writeResponse(fetchResponse, response);
  };
}
