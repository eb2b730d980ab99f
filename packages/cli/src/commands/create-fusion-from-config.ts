import {
  createFusion,
  type Fusion,
  type KeyvLike,
  type PluginV1,
  type TraceStoreOptions,
} from '@fusionkit/core';
import type { McpHttpOptions, McpSessionRecord } from '@fusionkit/mcp';
import { createOpenAICompatible } from '@fusionkit/openai';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { lazyPlugin } from './lazy-plugin.js';

/** The config's `mcp`, its sessions recorded in the state store (shared on Redis) unless it names one. */
function mcpOptions(
  mcp: ResolvedConfig['mcp'],
  extras: { mcpSessions?: KeyvLike<McpSessionRecord> },
): Omit<McpHttpOptions, 'fusion'> {
  const options = mcp || {};
  if (!options.sessions || !extras.mcpSessions) return options;
  const sessions = options.sessions === true ? {} : options.sessions;
  return { ...options, sessions: { store: extras.mcpSessions, ...sessions } };
}

/**
 * The orchestrator a config describes: its providers and plugins, one provider per upstream, and the
 * MLX plugin when `mlx` (or `FUSION_MLX_MODELS`) is set, and the MCP server at `/mcp` unless `mcp: false`.
 */
export function createFusionFromConfig(
  config: ResolvedConfig,
  extras: {
    plugins?: PluginV1[];
    traces?: TraceStoreOptions['keyv'];
    mcpSessions?: KeyvLike<McpSessionRecord>;
  } = {},
): Fusion {
  const {
    host: _host,
    port: _port,
    upstreams,
    providers = [],
    plugins = [],
    file: _file,
    shutdownTimeoutMs: _timeout,
    mlx,
    mcp,
    state: _state,
    redis: _redis,
    ...options
  } = config;
  const upstreamProviders = upstreams.map(({ name, apiKey, ...upstream }) =>
    createOpenAICompatible({ id: name, ...upstream, ...(apiKey ? { apiKey } : {}) }),
  );
  return createFusion({
    ...options,
    ...(extras.traces ? { traces: { ...options.traces, keyv: extras.traces } } : {}),
    providers: [...providers, ...upstreamProviders],
    plugins: [
      ...(extras.plugins ?? []),
      ...(mlx ? [lazyPlugin('mlx', async () => (await import('@fusionkit/mlx')).createMlxPlugin(mlx))] : []),
      // The orchestrator as an MCP server at /mcp, unless the config says `mcp: false` or mounts its own.
      ...(mcp === false || plugins.some((plugin) => plugin.name === 'mcp')
        ? []
        : [
            lazyPlugin('mcp', async () =>
              (await import('@fusionkit/mcp')).mcpPlugin(mcpOptions(mcp, extras)),
            ),
          ]),
      ...plugins,
    ],
  });
}
