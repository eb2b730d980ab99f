import {
  ApiKeys,
  createFusion,
  type Fusion,
  type FusionOptions,
  type KeyvLike,
  type PluginV1,
  type RateLimiterLike,
  type TraceStoreOptions,
} from '@fusionkit/core';
import type { McpHttpOptions, McpServerConfig, McpSessionRecord, McpToolsPlugin } from '@fusionkit/mcp';
import { createOpenAICompatible, createOpenAICompatibleFleet } from '@fusionkit/openai';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { lazyPlugin } from './lazy-plugin.js';

/** The config's `mcp`, its sessions recorded in the state store (shared on Redis) unless it names one. */
function mcpOptions(
  mcp: ResolvedConfig['mcp'],
  extras: { mcpSessions?: KeyvLike<McpSessionRecord> },
  servers: McpToolsPlugin | undefined,
): Omit<McpHttpOptions, 'fusion'> {
  const { servers: reserve = true, ...options } = mcp || {};
  const withServers = servers && reserve ? { ...options, servers } : options;
  if (!options.sessions || !extras.mcpSessions) return withServers;
  const sessions = options.sessions === true ? {} : options.sessions;
  return { ...withServers, sessions: { store: extras.mcpSessions, ...sessions } };
}

/** The config's `mcpServers` as `mcpToolsPlugin` takes them: disabled ones left out, `type` dropped. */
export function bridgedServers(mcpServers: ResolvedConfig['mcpServers']): Record<string, McpServerConfig> {
  const servers: Record<string, McpServerConfig> = {};
  for (const [name, { type: _type, disabled, ...server }] of Object.entries(mcpServers ?? {})) {
    if (!disabled) servers[name] = server;
  }
  return servers;
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
    responses?: FusionOptions['responses'];
    limiter?: RateLimiterLike;
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
    mcpServers,
    rag: _rag,
    state: _state,
    redis: _redis,
    jobs: _jobs,
    apiKeys,
    ...options
  } = config;
  const upstreamProviders = upstreams.map(({ name, apiKey, fleet, ...upstream }) =>
    fleet?.length
      ? createOpenAICompatibleFleet({
          id: name,
          ...upstream,
          ...(apiKey ? { apiKey } : {}),
          baseURLs: [upstream.baseURL, ...fleet.map((url) => url.replace(/\/+$/, ''))],
        })
      : createOpenAICompatible({ id: name, ...upstream, ...(apiKey ? { apiKey } : {}) }),
  );
  const servers = bridgedServers(mcpServers);
  // One tool bridge for the tool loop and for /mcp, which re-serves it.
  let tools: Promise<McpToolsPlugin> | undefined;
  const toolsPlugin = () => {
    tools ??= import('@fusionkit/mcp').then(({ mcpToolsPlugin }) => mcpToolsPlugin({ servers }));
    return tools;
  };
  const bridging = Object.keys(servers).length > 0;
  return createFusion({
    ...options,
    // Per-key limits count in the shared limiter (Redis) when the server has one.
    ...(Array.isArray(apiKeys) && apiKeys.length > 0
      ? { apiKeys: new ApiKeys(apiKeys, extras.limiter ? { limiter: extras.limiter } : {}) }
      : apiKeys
        ? { apiKeys }
        : {}),
    ...(extras.traces ? { traces: { ...options.traces, keyv: extras.traces } } : {}),
    // The config's own store or runner, when it names one, wins over the server's state.
    ...(extras.responses ? { responses: { ...extras.responses, ...options.responses } } : {}),
    providers: [...providers, ...upstreamProviders],
    plugins: [
      ...(extras.plugins ?? []),
      ...(mlx ? [lazyPlugin('mlx', async () => (await import('@fusionkit/mlx')).createMlxPlugin(mlx))] : []),
      ...(bridging ? [lazyPlugin('mcp-tools', toolsPlugin)] : []),
      // The orchestrator as an MCP server at /mcp, unless the config says `mcp: false` or mounts its own.
      ...(mcp === false || plugins.some((plugin) => plugin.name === 'mcp')
        ? []
        : [
            lazyPlugin('mcp', async () =>
              (await import('@fusionkit/mcp')).mcpPlugin(
                mcpOptions(mcp, extras, bridging ? await toolsPlugin() : undefined),
              ),
            ),
          ]),
      ...plugins,
    ],
  });
}
