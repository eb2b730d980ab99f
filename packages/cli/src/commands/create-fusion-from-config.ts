import { createFusion, type Fusion } from '@fusionkit/core';
import { createOpenAICompatible } from '@fusionkit/openai';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { lazyMlxPlugin } from './lazy-mlx-plugin.js';

/**
 * The orchestrator a config describes: its providers and plugins, one provider per upstream, and the
 * MLX plugin when `mlx` (or `FUSION_MLX_MODELS`) is set.
 */
export function createFusionFromConfig(config: ResolvedConfig): Fusion {
  const {
    host: _host,
    port: _port,
    upstreams,
    providers = [],
    plugins = [],
    file: _file,
    shutdownTimeoutMs: _timeout,
    mlx,
    ...options
  } = config;
  const upstreamProviders = upstreams.map((upstream) =>
    createOpenAICompatible({
      id: upstream.name,
      baseURL: upstream.baseURL,
      ...(upstream.apiKey ? { apiKey: upstream.apiKey } : {}),
      ...(upstream.models ? { models: upstream.models } : {}),
    }),
  );
  return createFusion({
    ...options,
    providers: [...providers, ...upstreamProviders],
    plugins: [...(mlx ? [lazyMlxPlugin(mlx)] : []), ...plugins],
  });
}
