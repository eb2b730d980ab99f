/** What the Next.js adapter needs from an orchestrator; `Fusion` from `@fusionkit/core` satisfies it. */
export interface FusionLike {
  /** Answers one HTTP request. Expected to turn its own errors into responses. */
  handle(request: Request): Promise<Response>;
}

/** Options of {@link createNextRouteHandlers}. */
export interface NextRouteHandlersOptions {
  /**
   * The public path of the folder holding the catch-all route, stripped before the orchestrator sees
   * the URL. Include the `basePath` of `next.config` when the app has one.
   * @example '/api' for `app/api/[...fusion]/route.ts` @default '/api'
   */
  basePath?: string;
}

/** An App Router route handler. `NextRequest` is a `Request`. */
export type NextRouteHandler = (request: Request) => Promise<Response>;

/** The handlers a catch-all `route.ts` exports. */
export interface NextRouteHandlers {
  GET: NextRouteHandler;
  POST: NextRouteHandler;
  DELETE: NextRouteHandler;
  OPTIONS: NextRouteHandler;
}

/**
 * Route handlers serving `fusion.handle` from an App Router catch-all route:
 *
 * ```ts
 * // app/api/[...fusion]/route.ts
 * export const { GET, POST, DELETE, OPTIONS } = createNextRouteHandlers(fusion, { basePath: '/api' });
 * ```
 *
 * Responses go back to Next as they are, so SSE streams through unbuffered; `request.signal` (Next
 * aborts it when the client goes away) reaches every upstream call.
 */
export function createNextRouteHandlers(
  fusion: FusionLike,
  options: NextRouteHandlersOptions = {},
): NextRouteHandlers {
  const basePath = (options.basePath ?? '/api').replace(/\/+$/, '');
  const handler: NextRouteHandler = (request) => fusion.handle(withoutBasePath(request, basePath));
  return { GET: handler, POST: handler, DELETE: handler, OPTIONS: handler };
}

/** The request with `basePath` cut from its URL; unchanged when the path lies outside it (the core answers 404). */
function withoutBasePath(request: Request, basePath: string): Request {
  if (basePath === '') return request;
  const url = new URL(request.url);
  const path = url.pathname;
  if (path !== basePath && !path.startsWith(`${basePath}/`)) return request;
  url.pathname = path.slice(basePath.length) || '/';
  const { method, headers, body, signal } = request;
  return new Request(url, { method, headers, body, signal, duplex: 'half' } as RequestInit);
}
