/**
 * The MLX provider as a plugin that also keeps the orchestrator's model list in step with the
 * model folders: when a directory appears, changes or goes away, the provider is registered
 * again, so `/v1/models` shows it without a restart. For config files, where the orchestrator
 * instance is out of reach:
 *
 * @example
 * // fusion.config.mjs
 * import { createMlxPlugin } from '@fusionkit/mlx';
 * export default { plugins: [createMlxPlugin({ modelsDir: './models' })] };
 */
import type { PluginV1 } from '@fusionkit/core';
import { createMlxProvider } from './create-mlx-provider.js';
import type { MlxProvider } from './mlx-provider.js';
import type { MlxProviderOptions } from './mlx-provider-options.js';

export interface MlxPluginOptions extends MlxProviderOptions {
  /** How often the folders are checked for changes, ms. @default 2000 */
  watchIntervalMs?: number;
}

export interface MlxPlugin extends PluginV1 {
  readonly provider: MlxProvider;
}

export function createMlxPlugin(options: MlxPluginOptions = {}): MlxPlugin {
  const { watchIntervalMs, ...providerOptions } = options;
  const provider = createMlxProvider(providerOptions);
  let stopWatching: (() => void) | undefined;
  let unregister: (() => void) | undefined;
  return {
    specificationVersion: 'v1',
    name: `mlx:${provider.id}`,
    provider,
    async setup(api) {
      unregister = await api.registerProvider(provider);
      let registering = Promise.resolve();
      stopWatching = provider.watchModels(
        () => {
          // Registering again re-reads the provider's models; requests already running finish.
          registering = registering.then(async () => {
            unregister?.();
            unregister = await api.registerProvider(provider).catch(() => undefined);
          });
        },
        { ...(watchIntervalMs !== undefined ? { intervalMs: watchIntervalMs } : {}) },
      );
    },
    async teardown() {
      stopWatching?.();
      unregister?.();
      await provider.close();
    },
  };
}
