import type { ApiKeyPrincipal, ApiKeys } from '../auth/api-keys.js';
import { MethodNotAllowedError } from '../errors/method-not-allowed-error.js';
import { NotFoundError } from '../errors/not-found-error.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import { UnavailableError } from '../errors/unavailable-error.js';
import type { Fusion } from '../fusion/fusion.js';
import type { RouteHandler } from '../spec/plugin/v1/plugin-v1.js';
import { ABORT_SCOPE, type AbortScope, lazySignal } from '../util/abort-scope.js';
import { requestIdFrom } from '../util/request-id.js';
import { anthropicRoutes } from './anthropic/anthropic-routes.js';
import { completionsRoutes } from './completions/completions-routes.js';
import { fusionRoutes } from './fusion-routes.js';
import { modelLifecycleRoutes } from './model-lifecycle-routes.js';
import { openAIRoutes } from './openai-routes.js';
import { passthroughRoutes } from './passthrough/passthrough-routes.js';
import { preflightResponse, RequestGuard, type SecurityOptions, withCors } from './request-guard.js';
import { type ResponsesOptions, responsesRoutes } from './responses/responses-routes.js';
import { errorHeaders, errorResponse } from './responses.js';
import type { RouteEntry, RouteTable } from './route-table.js';

export interface HttpHandlerOptions {
  basePath: string;
  apiKeys?: ApiKeys | undefined;
  security: SecurityOptions;
  responses?: ResponsesOptions;
}

/** Paths that answer without an API key and while draining. */
const OPEN_PATHS = new Set(['/health', '/health/ready']);

/**
 * Builds `fusion.handle`: request id, the cross-site guard (Host, Origin, CORS, JSON-only bodies),
 * base path, auth, dispatch, and the one place where anything thrown becomes OpenAI's error body with
 * its status. Every response carries `x-request-id`.
 */
export function createHttpHandler(
  fusion: Fusion,
  routes: RouteTable,
  options: HttpHandlerOptions,
): (request: Request) => Promise<Response> {
  const builtin: RouteEntry[] = [
    ...openAIRoutes(fusion),
    ...modelLifecycleRoutes(fusion),
    ...responsesRoutes(fusion, options.responses),
    ...fusionRoutes(fusion),
    ...anthropicRoutes(fusion),
    ...completionsRoutes(fusion),
    ...passthroughRoutes(fusion),
  ];
  for (const [method, path, handler, routeOptions] of builtin)
    routes.add(method, path, handler, routeOptions);
  const basePath = options.basePath.replace(/\/+$/, '');
  const { apiKeys } = options;
  if (apiKeys) {
    // Each call carries the key it was made for (routes pass `apiKeyId`), never looked up by the
    // request id, which the client chooses.
    fusion.events.on('provider:call:end', ({ apiKeyId, usage }) => {
      if (apiKeyId !== undefined && usage)
        void apiKeys.spend(apiKeyId, usage.total_tokens ?? 0).catch(() => {});
    });
  }
  const guard = new RequestGuard(options.security);

  return async function handle(request: Request): Promise<Response> {
    const startedAt = performance.now();
    const requestId = requestIdFrom(request.headers.get('x-request-id'));
    const method = request.method.toUpperCase();
    let path = pathOf(request.url);
    const events = fusion.events;
    if (events.has('request:start')) {
      // The W3C trace context of the caller, for tracing subscribers; read only when someone listens.
      const traceparent = request.headers.get('traceparent');
      events.emit(
        'request:start',
        traceparent === null ? { requestId, method, path } : { requestId, method, path, traceparent },
      );
    }
    let response: Response;
    /** The allowed other origin the request comes from, answered with CORS headers. */
    let cors: string | undefined;
    try {
      if (basePath) {
        if (path !== basePath && !path.startsWith(`${basePath}/`)) throw notFound(method, path);
        path = path.slice(basePath.length) || '/';
      }
      cors = checkSite(guard, routes, request, method, path);
      // A CORS preflight carries no credentials: it is answered for allowed origins before auth.
      const preflight = cors !== undefined && method === 'OPTIONS' ? preflightMethod(request) : undefined;
      const open = OPEN_PATHS.has(path) || preflight !== undefined || routes.isPublic(method, path);
      let apiKey: ApiKeyPrincipal | undefined;
      if (apiKeys && apiKeys.size > 0 && !open) {
        apiKey = await apiKeys.authenticate(request);
      }
      if (fusion.closing && !open) {
        throw new UnavailableError('The server is shutting down.', { retryAfterMs: 1000 });
      }
      let match = routes.match(preflight ?? method, path);
      if (match.kind === 'not-found') {
        // Plugins given at creation add their routes during setup: wait for it before saying 404.
        await fusion.ready.catch(() => {});
        match = routes.match(preflight ?? method, path);
      }
      if (match.kind === 'not-found') throw notFound(method, path);
      if (preflight !== undefined) {
        const methods = match.kind === 'found' ? [preflight] : match.allow;
        response = preflightResponse(request, cors!, methods, requestId);
      } else if (match.kind === 'method-not-allowed') {
        if (method === 'OPTIONS') {
          response = new Response(null, {
            status: 204,
            headers: { allow: match.allow.join(', '), 'x-request-id': requestId },
          });
        } else {
          const error = new MethodNotAllowedError(
            `${method} is not allowed on ${path}; use ${match.allow.join(' or ')}.`,
          );
          events.emit('request:error', { requestId, method, path, error });
          response = errorResponse(
            error,
            requestId,
            { allow: match.allow.join(', ') },
            routes.formatErrorOf(path),
          );
        }
      } else {
        guard.checkBody(request, method, routes.acceptsOf(match.handler));
        response = await match.handler(request, routeContext(request, requestId, match.params, apiKey));
        if (!response.headers.has('x-request-id')) response = withRequestId(response, requestId);
      }
    } catch (error) {
      const fusionError = toFusionError(error);
      if (fusionError.status >= 500 && fusionError.code === 'internal_error') {
        console.error(`[fusion] ${requestId} ${method} ${path} failed:`, fusionError.cause ?? fusionError);
      }
      events.emit('request:error', { requestId, method, path, error: fusionError });
      response = errorResponse(
        fusionError,
        requestId,
        errorHeaders(error) ?? errorHeaders(fusionError),
        routes.formatErrorOf(path),
      );
    }
    if (cors !== undefined) response = withCors(response, cors);
    events.emit('request:end', {
      requestId,
      method,
      path,
      status: response.status,
      durationMs: performance.now() - startedAt,
    });
    return response;
  };
}

/**
 * What a route handler gets. The signal is the request's, read only when a route asks for it: the
 * node adapter's request carries a scope ({@link ABORT_SCOPE}) that the chat routes follow instead.
 */
function routeContext(
  request: Request,
  requestId: string,
  params: Record<string, string>,
  apiKey: ApiKeyPrincipal | undefined,
): Parameters<RouteHandler>[1] & { [ABORT_SCOPE]: AbortScope | undefined } {
  const context = {
    requestId,
    params,
    apiKey,
    [ABORT_SCOPE]: (request as { [ABORT_SCOPE]?: AbortScope })[ABORT_SCOPE],
    [REQUEST]: request,
  };
  // The request's signal, made only when read (see `lazySignal` for why not a literal getter).
  return withRequestSignal(context);
}

/** Where a route context keeps its request, for its `signal`. */
const REQUEST = Symbol('request');

/** A route context's `signal`: the request's, read when asked; one getter shared by every context. */
const withRequestSignal = lazySignal((context: { [REQUEST]: Request }) => context[REQUEST].signal);

/**
 * The guard's verdict on Host and Origin (see {@link RequestGuard.checkSite}). A refused request to
 * a path no route serves stays a 404, so that an app's own routes behind Express's `passThrough`
 * are not refused for a host the orchestrator does not know.
 */
function checkSite(
  guard: RequestGuard,
  routes: RouteTable,
  request: Request,
  method: string,
  path: string,
): string | undefined {
  try {
    return guard.checkSite(request);
  } catch (error) {
    if (routes.match(method, path).kind === 'not-found') throw notFound(method, path);
    throw error;
  }
}

/** The method a CORS preflight asks for, upper-cased; `undefined` for a plain OPTIONS. */
function preflightMethod(request: Request): string | undefined {
  return request.headers.get('access-control-request-method')?.trim().toUpperCase() || undefined;
}

function notFound(method: string, path: string): NotFoundError {
  return new NotFoundError(`No route for ${method} ${path}.`);
}

/** The path of a URL without building a `URL` (this runs on every request). */
export function pathOf(url: string): string {
  const schemeEnd = url.indexOf('://');
  const start = schemeEnd === -1 ? 0 : url.indexOf('/', schemeEnd + 3);
  if (start === -1) return '/';
  let end = url.length;
  const query = url.indexOf('?', start);
  if (query !== -1) end = query;
  const hash = url.indexOf('#', start);
  if (hash !== -1 && hash < end) end = hash;
  return url.slice(start, end) || '/';
}

/** Responses from `fetch` have immutable headers; copy them when the id must be added. */
function withRequestId(response: Response, requestId: string): Response {
  try {
    response.headers.set('x-request-id', requestId);
    return response;
  } catch {
    const headers = new Headers(response.headers);
    headers.set('x-request-id', requestId);
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  }
}
