import type { RouteHandler } from '@fusionkit/core';
import type { FusionMetrics } from './fusion-metrics.js';

/**
 * The route handler that serves metrics to a Prometheus scraper. Mounted on the orchestrator it sits
 * behind `handle`'s API keys and cross-site guard like any route (Prometheus sends a bearer token
 * with `authorization.credentials`).
 *
 * @example fusion.route('GET', '/metrics', metricsRoute(createFusionMetrics(fusion)));
 */
export function metricsRoute(metrics: FusionMetrics): RouteHandler {
  return async (_request, { requestId }) =>
    new Response(await metrics.text(), {
      status: 200,
      headers: {
        'content-type': metrics.contentType,
        'cache-control': 'no-store',
        'x-request-id': requestId,
      },
    });
}
