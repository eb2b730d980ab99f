import { type Fusion, PermissionDeniedError, type RouteHandler } from '@fusionkit/core';
import { fromAnotherOrigin } from '../diagnostics/from-another-origin.js';
import type { FusionDiagnostics } from '../diagnostics/fusion-diagnostics.js';
import type { DashboardFeed } from './dashboard-feed.js';
import { DASHBOARD_CSS, DASHBOARD_HTML, DASHBOARD_JS } from './dashboard-page.js';

/** The parts of the orchestrator the dashboard mounts on and reads. */
export type DashboardFusion = Pick<Fusion, 'route' | 'health'>;

/**
 * Headers of every dashboard answer (`data:` images only for the page's empty favicon, so that the
 * browser asks no `/favicon.ico`): no framing by any page (`frame-ancestors 'none'`), nothing
 * loaded or sent but to this origin, no MIME sniffing, no caching.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

function asset(body: string, contentType: string): RouteHandler {
  return (_request, { requestId }) =>
    new Response(body, {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'content-type': contentType, 'x-request-id': requestId },
    });
}

/**
 * Mounts the dashboard: `GET /dashboard` (a static page), its script and style, and
 * `GET /dashboard/data` (JSON: health, the diagnostics report, and the feed's totals, recent requests
 * and pipeline runs). All sit behind `handle`'s API keys and cross-site guard; the data is also
 * refused to any request a browser marks as coming from another origin, as the diagnostics are.
 * Returns the function that unmounts them.
 *
 * @example mountDashboard(fusion, { diagnostics: createFusionDiagnostics(fusion), feed: createDashboardFeed(fusion) });
 */
export function mountDashboard(
  fusion: DashboardFusion,
  parts: { diagnostics: FusionDiagnostics; feed: DashboardFeed },
): () => void {
  const data: RouteHandler = (request, { requestId }) => {
    if (fromAnotherOrigin(request)) {
      throw new PermissionDeniedError('The dashboard is not served to other origins.', {
        code: 'origin_not_allowed',
      });
    }
    const body = { health: fusion.health(), report: parts.diagnostics.report(), feed: parts.feed.snapshot() };
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'content-type': 'application/json', 'x-request-id': requestId },
    });
  };
  const unmounts = [
    fusion.route('GET', '/dashboard', asset(DASHBOARD_HTML, 'text/html; charset=utf-8')),
    fusion.route('GET', '/dashboard/app.js', asset(DASHBOARD_JS, 'text/javascript; charset=utf-8')),
    fusion.route('GET', '/dashboard/app.css', asset(DASHBOARD_CSS, 'text/css; charset=utf-8')),
    fusion.route('GET', '/dashboard/data', data),
  ];
  return () => {
    for (const unmount of unmounts.splice(0)) unmount();
  };
}
