import type { RouteHandler } from '@fusionkit/core';
import type { FusionDiagnostics } from './fusion-diagnostics.js';
import { checkOperator } from './operator-only.js';

/**
 * The route handler of `GET /internal/diagnostics`. Besides `handle`'s API keys and cross-site guard,
 * it refuses every request a browser marks as coming from another origin, even one that
 * `security.allowedOrigins` lets call the API, and, with API keys on, every key but an admin key
 * (`{ id, sha256, admin: true }`): the report is for operators, not for web pages or other keys.
 *
 * @example fusion.route('GET', '/internal/diagnostics', diagnosticsRoute(createFusionDiagnostics(fusion)));
 */
export function diagnosticsRoute(diagnostics: FusionDiagnostics): RouteHandler {
  return (request, context) => {
    checkOperator(request, context, 'Diagnostics are');
    const { requestId } = context;
    return new Response(JSON.stringify(diagnostics.report()), {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-request-id': requestId },
    });
  };
}
