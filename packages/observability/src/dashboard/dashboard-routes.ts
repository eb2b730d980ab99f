import type { Fusion, RouteHandler } from '@fusionkit/core';
import type { FusionDiagnostics } from '../diagnostics/fusion-diagnostics.js';
import { checkOperator } from '../diagnostics/operator-only.js';
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

/** Static assets: served without an API key. */
const PUBLIC = { public: true };

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
 * and pipeline runs). The page, script and style are static and reveal nothing, so they are served
 * without an API key (a browser sends none): with keys on, the page asks for one, keeps it in the
 * tab's `sessionStorage` and sends it as `Authorization` on its data requests. The data sits behind
 * `handle`'s API keys and cross-site guard, is refused to any request a browser marks as coming from
 * another origin, and, with keys on, to every key but an admin key, as the diagnostics are. The
 * page's URLs are relative, so it works under a `basePath` or a mount path too.
 * Returns the function that unmounts them.
 *
 * @example mountDashboard(fusion, { diagnostics: createFusionDiagnostics(fusion), feed: createDashboardFeed(fusion) });
 */
export function mountDashboard(
  fusion: DashboardFusion,
  parts: { diagnostics: FusionDiagnostics; feed: DashboardFeed },
): () => void {
  const data: RouteHandler = (request, context) => {
    checkOperator(request, context, "The dashboard's data is");
    const { requestId } = context;
    const body = { health: fusion.health(), report: parts.diagnostics.report(), feed: parts.feed.snapshot() };
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'content-type': 'application/json', 'x-request-id': requestId },
    });
  };
  const unmounts = [
    fusion.route('GET', '/dashboard', asset(DASHBOARD_HTML, 'text/html; charset=utf-8'), PUBLIC),
    fusion.route('GET', '/dashboard/app.js', asset(DASHBOARD_JS, 'text/javascript; charset=utf-8'), PUBLIC),
    fusion.route('GET', '/dashboard/app.css', asset(DASHBOARD_CSS, 'text/css; charset=utf-8'), PUBLIC),
    fusion.route('GET', '/dashboard/data', data),
  ];
  return () => {
    for (const unmount of unmounts.splice(0)) unmount();
  };
}
