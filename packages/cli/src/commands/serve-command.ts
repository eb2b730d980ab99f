import { serve } from '@fusionkit/node';
import { resolveConfig } from '../config/resolve-config.js';
import { openServeState } from '../state/serve-state.js';
import type { CliContext } from './cli-context.js';
import { createFusionFromConfig } from './create-fusion-from-config.js';
import { reclaimIdleMemory } from './reclaim-idle-memory.js';

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
  const fusion = createFusionFromConfig(config, await openServeState(context, config));
  await fusion.ready;

  const server = await serve(fusion, {
    host: config.host,
    port: config.port,
    ...(config.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: config.shutdownTimeoutMs }),
  });
  context.log(`fusion listening on ${server.url}`);
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
  if (models.length > 0) {
    context.log(`serving ${models.length} model${models.length === 1 ? '' : 's'}:`);
    for (const model of models)
      context.log(`  ${model.id}${model.status === 'ready' ? '' : ` (${model.status})`}`);
  } else {
    context.log('no model yet: GET /health answers 503 until one is added.');
    context.log('  add one: FUSION_UPSTREAMS=lab=http://127.0.0.1:8000/v1 npm start');
    context.log('  or list upstreams, providers and plugins in fusion.config.ts (see the README).');
  }
  for (const upstream of config.upstreams) {
    if (!models.some((model) => model.id.startsWith(`${upstream.name}/`))) {
      const health = fusion.health().providers[upstream.name];
      const reason = (health?.message ?? 'not reachable').replace(/\.$/, '');
      context.log(
        `upstream '${upstream.name}' (${upstream.baseURL}) has no models yet (${reason}); retrying.`,
      );
    }
  }
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
