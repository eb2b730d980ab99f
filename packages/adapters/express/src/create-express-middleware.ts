import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FusionLike } from '@fusionkit/node';
import {
  closeAfterDraining,
  DEFAULT_MAX_BODY_BYTES,
  type ToRequestOptions,
  toRequest,
  writeResponse,
} from '@fusionkit/node/internal';

/** Options of {@link createExpressMiddleware}. */
export interface ExpressMiddlewareOptions {
  /**
   * Call `next()` instead of answering 404 for a path the orchestrator has no route for, so the app's
   * own routes after the middleware still answer. A body is left unread on the socket until the
   * orchestrator asks for it, so the next handler can still read it. @default false
   */
  passThrough?: boolean;
  /** Largest request body, in bytes; larger bodies get 413. @default fusion.maxBodyBytes, else 4 MiB */
  maxBodyBytes?: number;
  /** Take protocol and host from `x-forwarded-proto` / `x-forwarded-host` (behind a proxy you trust). @default false */
  trustProxy?: boolean;
}

/**
 * Express (and Connect) middleware, typed structurally so that no `@types/express` is needed. Resolves
 * when the response is done or handed to `next`; never rejects.
 */
export type ExpressMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => Promise<void>;

/**
 * Serves `fusion.handle` as Express middleware. Express strips the mount path from `req.url`, so the
 * orchestrator sees paths relative to where it is mounted: `app.use('/ai', middleware)` serves
 * `/ai/v1/chat/completions` to its `/v1/chat/completions` (leave `createFusion({ basePath })` unset).
 * A body that `express.json()` already parsed is taken from `req.body`; a client that goes away
 * aborts the upstream call. What `handle` throws goes to `next(error)`.
 */
export function createExpressMiddleware(
  fusion: FusionLike,
  options: ExpressMiddlewareOptions = {},
): ExpressMiddleware {
  const requestOptions: ToRequestOptions = {
    maxBodyBytes: options.maxBodyBytes ?? fusion.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    trustProxy: options.trustProxy,
  };

  return async (req, res, next) => {
    let request: Request;
    try {
      // Express has already cut the mount path from `req.url`; a parsed body is taken from `req.body`.
      request = toRequest(req, res, requestOptions);
    } catch (error) {
      return next(Object.assign(error as Error, { status: 400, statusCode: 400, expose: true }));
    }
    let response: Response;
    try {
      response = await fusion.handle(request);
    } catch (error) {
      return next(error);
    }
    if (options.passThrough && response.status === 404 && (await isUnknownRoute(response))) return next();
    // Answered before the whole body arrived: read and drop the rest (bounded), then close.
    if (!req.complete) closeAfterDraining(req, res);
    // Returned, not awaited: a stream's response holds no frame of this function while it lasts.
    return writeResponse(response, res);
  };
}

/** The core's answer for a path it has no route for: 404 with `code: 'not_found'`. */
async function isUnknownRoute(response: Response): Promise<boolean> {
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { error?: { code?: unknown } } | undefined;
  return body?.error?.code === 'not_found';
}
