import { PermissionDeniedError, type RouteHandler } from '@fusionkit/core';
import type { FusionDiagnostics } from './fusion-diagnostics.js';

/** Whether a browser says the request comes from a page of another site or origin. */
function fromAnotherOrigin(request: Request): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.get('origin');
  if (origin === null) return false;
  const host = request.headers.get('host') ?? new URL(request.url).host;
  try {
    return new URL(origin).host.toLowerCase() !== host.toLowerCase();
  } catch {
    return true; // `null` and other opaque origins
  }
}

/**
 * The route handler of `GET /internal/diagnostics`. Besides `handle`'s API keys and cross-site guard,
 * it refuses every request a browser marks as coming from another origin, even one that
 * `security.allowedOrigins` lets call the API: the report is for operators, not for web pages.
 *
 * @example fusion.route('GET', '/internal/diagnostics', diagnosticsRoute(createFusionDiagnostics(fusion)));
 */
export function diagnosticsRoute(diagnostics: FusionDiagnostics): RouteHandler {
  return (request, { requestId }) => {
    if (fromAnotherOrigin(request)) {
      throw new PermissionDeniedError('Diagnostics are not served to other origins.', {
        code: 'origin_not_allowed',
      });
    }
    return new Response(JSON.stringify(diagnostics.report()), {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-request-id': requestId },
    });
  };
}
