import { PermissionDeniedError, type RouteHandler } from '@fusionkit/core';
import { fromAnotherOrigin } from './from-another-origin.js';

/**
 * Refuses what only an operator may read (every key's requests and jobs): a request a browser marks
 * as coming from another origin, and, when the server requires API keys, a key not configured with
 * `admin: true` (403 `admin_key_required`). Without keys the route is served only when mounted on
 * purpose (`fusion serve`: `FUSION_DIAGNOSTICS=1`).
 */
export function checkOperator(request: Request, context: Parameters<RouteHandler>[1], what: string): void {
  if (fromAnotherOrigin(request)) {
    throw new PermissionDeniedError(`${what} not served to other origins.`, { code: 'origin_not_allowed' });
  }
  if (context.apiKey && !context.apiKey.admin) {
    throw new PermissionDeniedError(`${what} only served to an admin API key.`, {
      code: 'admin_key_required',
    });
  }
}
