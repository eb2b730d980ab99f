import { PermissionDeniedError, type RouteHandler } from '@fusionkit/core';
import { fromAnotherOrigin } from './from-another-origin.js';
import type { FusionDiagnostics } from './fusion-diagnostics.js';

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
