import { JobRunner, jobsPlugin, type KeyvLike, type PluginV1, type TraceStoreOptions } from '@fusionkit/core';
import type { McpSessionRecord } from '@fusionkit/mcp';
import type { CliContext } from '../commands/cli-context.js';
import { webhookGuard } from '../commands/webhook-guard.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { openState } from './open-state.js';
import { statePlugin } from './state-plugin.js';

/**
 * The state `fusion serve` runs with (SQLite under `.fusion/` by default, Redis or memory on
 * request): the Keyv its traces go to, and the plugins that serve durable jobs on it and close it.
 */
export async function openServeState(
  context: CliContext,
  config: ResolvedConfig,
): Promise<{
  plugins: PluginV1[];
  traces: TraceStoreOptions['keyv'];
  /** Where `/mcp` records its sessions (config `mcp.sessions`), shared by instances on one Redis. */
  mcpSessions: KeyvLike<McpSessionRecord>;
}> {
  const logError = (error: unknown) => context.log(`state error: ${(error as Error)?.message ?? error}`);
  const state = await openState({
    cwd: context.cwd,
    env: context.env,
    ...(config.state ? { state: config.state } : {}),
    ...(config.redis ? { redis: config.redis } : {}),
    onError: logError,
  });
  context.log(`state: ${state.description}`);
  const guard = webhookGuard(context.env);
  const jobs = new JobRunner({
    store: state.keyv('jobs', { strict: true }),
    onStoreError: logError,
    fetch: guard.fetch,
  });
  // A RAG plugin of the config serves /api/jobs for its own runner already.
  const ragMounted = config.plugins?.some((plugin) => plugin.name === 'rag');
  return {
    traces: state.keyv('traces'),
    mcpSessions: state.keyv<McpSessionRecord>('mcp-sessions'),
    plugins: [
      // First, so that it is torn down last, after the jobs wrote their last changes.
      statePlugin(state),
      jobsPlugin({
        jobs,
        routes: {
          prefixes: ragMounted ? ['/v1/jobs'] : ['/v1/jobs', '/api/jobs'],
          checkWebhookUrl: guard.checkWebhookUrl,
        },
      }),
    ],
  };
}
