/**
 * `@fusionkit/observability`: Prometheus metrics, JSON logs and diagnostics of a Fusion
 * orchestrator, all built as subscribers of its event bus (nothing runs on the request path when
 * nobody subscribes). Node-only, unlike the core's root entry.
 *
 * @example
 * import { createFusionMetrics, metricsRoute } from '@fusionkit/observability';
 * const metrics = createFusionMetrics(fusion);
 * fusion.route('GET', '/metrics', metricsRoute(metrics));
 *
 * @module
 */

export {
  createDashboardFeed,
  type DashboardFeed,
  type FedFusion,
  type RecentRequest,
  type RecentRun,
} from './dashboard/dashboard-feed.js';
export { type DashboardFusion, mountDashboard } from './dashboard/dashboard-routes.js';
export { diagnosticsRoute } from './diagnostics/diagnostics-route.js';
export {
  createFusionDiagnostics,
  type DiagnosedFusion,
  type DiagnosticsReport,
  type FusionDiagnostics,
  type FusionDiagnosticsOptions,
} from './diagnostics/fusion-diagnostics.js';
export {
  attachFusionLogger,
  type FusionLoggerOptions,
  type LoggedFusion,
} from './logging/fusion-logger.js';
export {
  createFusionMetrics,
  type FusionMetrics,
  type FusionMetricsOptions,
  type ObservedFusion,
} from './metrics/fusion-metrics.js';
export { metricsRoute } from './metrics/metrics-route.js';
export {
  attachFusionTracing,
  type FusionTracingOptions,
  type TracedFusion,
} from './tracing/fusion-tracing.js';
