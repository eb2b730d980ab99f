import { type NodeServer, serve } from '@fusionkit/node';
import {
  attachFusionLogger,
  attachFusionTracing,
  createDashboardFeed,
  createFusionDiagnostics,
  createFusionMetrics,
  diagnosticsRoute,
  metricsRoute,
  mountDashboard,
} from '@fusionkit/observability';
import { type ResolvedConfig, resolveConfig } from '../config/resolve-config.js';
import { openServeState } from '../state/serve-state.js';
import type { CliContext } from './cli-context.js';
import { createFusionFromConfig } from './create-fusion-from-config.js';
import { defaultRagPlugin } from './rag-serve.js';
import { reclaimIdleMemory } from './reclaim-idle-memory.js';
import { startServeTracing, tracingWanted } from './start-tracing.js';
import { listenError, listeningOn, startupReport } from './startup-report.js';

/**
 * `fusion serve`: the OpenAI-compatible API on `FUSION_HOST:FUSION_PORT` (127.0.0.1:8080), with the
 * models of every upstream. Stops gracefully on SIGTERM/SIGINT.
 */
export async function serveCommand(context: CliContext, options: { config?: string }): Promise<void> {
  const config = await resolveConfig({
    cwd: context.cwd,
    env: context.env,
    ...(options.config ? { configPath: options.config } : {}),
  });
  if (config.file) context.log(`config: ${config.file}`);
  for (const note of config.notes ?? []) context.log(note);
  const state = await openServeState(context, config);
  let started: ReturnType<typeof createFusionFromConfig> | undefined;
  // Collections under the state folder are served by default (`rag: false` turns it off).
  const rag = defaultRagPlugin(context, config, {
    jobs: state.rag.jobs,
    jobRoutes: state.rag.jobRoutes,
    fusion: () => started,
    onLoaded: ({ collections }) => {
      if (collections.length === 0) return;
      const failed = collections.filter((entry) => entry.status === 'failed');
      context.log(
        `rag: ${collections.length - failed.length} of ${collections.length} collection(s) loaded${
          failed.length
            ? `; failed: ${failed.map((entry) => `${entry.name} (${entry.error})`).join(', ')}`
            : ''
        }`,
      );
    },
  });
  // FUSION_TRACING=1 or an OTLP endpoint: spans to OTLP/HTTP, JSON by default (the SDK is loaded only then).
  const tracing = tracingWanted(context.env) ? await startServeTracing(context.env) : undefined;
  const fusion = createFusionFromConfig(config, {
    ...state,
    plugins: [...state.plugins, ...(rag ? [rag] : []), ...(tracing ? [tracing.plugin] : [])],
  });
  started = fusion;
  if (tracing) {
    attachFusionTracing(fusion, { tracerProvider: tracing.tracerProvider });
    if (tracing.note) context.log(tracing.note);
    context.log(`tracing: spans to ${tracing.endpoint} (${tracing.protocol})`);
  }
  // FUSION_LOG=json: pino JSON lines on stdout, each about a request with its id; prompts only if asked.
  if (context.env.FUSION_LOG === 'json') {
    const level = context.env.FUSION_LOG_LEVEL === 'debug' ? 'debug' : 'info';
    attachFusionLogger(fusion, { level, prompts: context.env.FUSION_LOG_PROMPTS === '1' });
  }
  await fusion.ready;
  // Prometheus metrics at /metrics (behind the API keys when there are), unless FUSION_METRICS=0.
  if (context.env.FUSION_METRICS !== '0')
    fusion.route('GET', '/metrics', metricsRoute(createFusionMetrics(fusion)));
  // The diagnostics and the dashboard tell more (memory, upstreams, recent requests): served when a
  // key guards them, or when asked.
  const diagnostics = context.env.FUSION_DIAGNOSTICS ?? (keyCount(config.apiKeys) > 0 ? '1' : '0');
  if (diagnostics === '1') {
    // Jobs shared on Redis are listed by /v1/jobs; the report shows the ones of this process.
    const report = createFusionDiagnostics(fusion, { jobs: state.rag.jobs });
    fusion.route('GET', '/internal/diagnostics', diagnosticsRoute(report));
    const feed = createDashboardFeed(fusion);
    mountDashboard(fusion, { diagnostics: report, feed });
    if (keyCount(config.apiKeys) > 0 && !hasAdminKey(config.apiKeys)) {
      context.log(
        'diagnostics and /dashboard answer only admin keys: mark one in apiKeys ({ id, sha256, admin: true }).',
      );
    }
    fusion.events.on('fusion:close', () => {
      report.close();
      feed.close();
    });
  }

  let server: NodeServer;
  try {
    server = await serve(fusion, {
      host: config.host,
      port: config.port,
      ...(config.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: config.shutdownTimeoutMs }),
    });
  } catch (error) {
    await fusion.close({ timeoutMs: 0 });
    throw listenError(error, config, context.env);
  }
  context.log(`fusion listening on ${listeningOn(server, config.host)}`);
  if (!['127.0.0.1', 'localhost', '::1'].includes(config.host) && !config.security?.allowedHosts?.length) {
    // The cross-site guard lets localhost and IP addresses through; names need saying.
    context.log(
      'reached by a host name? add it to FUSION_ALLOWED_HOSTS (or security.allowedHosts); other names get 403.',
    );
  }
  // A server's memory should come back after a burst of streams, not at the next one.
  const stopReclaiming = reclaimIdleMemory(fusion);
  fusion.events.on('fusion:close', stopReclaiming);
  if (config.mcp !== false) context.log(`MCP server at ${server.url}/mcp`);

  const models = await fusion.models();
  for (const line of startupReport(config, fusion, models)) context.log(line);
  // FUSION_LOG=requests: one JSON line per request, carrying its id (as upstream calls do).
  if (context.env.FUSION_LOG === 'requests') {
    fusion.events.on('request:end', ({ requestId, method, path, status, durationMs }) =>
      context.log(
        JSON.stringify({
          time: new Date().toISOString(),
          requestId,
          method,
          path,
          status,
          ms: Math.round(durationMs * 10) / 10,
        }),
      ),
    );
    fusion.events.on('request:error', ({ requestId, error }) =>
      context.log(
        JSON.stringify({
          time: new Date().toISOString(),
          requestId,
          error: error.code,
          message: error.message,
        }),
      ),
    );
  }
  // Models that join later (an upstream that comes up after the server) are announced too.
  fusion.events.on('model:register', ({ model }) => context.log(`+ model ${model}`));
  fusion.events.on('model:unregister', ({ model }) => context.log(`- model ${model}`));
}

function hasAdminKey(keys: ResolvedConfig['apiKeys']): boolean {
  return (
    Array.isArray(keys) && keys.some((key) => typeof key === 'object' && key !== null && key.admin === true)
  );
}

function keyCount(keys: ResolvedConfig['apiKeys']): number {
  return Array.isArray(keys) ? keys.length : ((keys as { size?: number } | undefined)?.size ?? 0);
}
