import type { PluginV1 } from '@fusionkit/core';
import type { MlxPluginOptions } from '@fusionkit/mlx';

/**
 * The MLX plugin, loaded only when the config asks for it: `fusion serve` without MLX models does
 * not pay for importing the tokenizers and template engine.
 */
export function lazyMlxPlugin(options: MlxPluginOptions): PluginV1 {
  let loaded: PluginV1 | undefined;
  return {
    specificationVersion: 'v1',
    name: 'mlx',
    async setup(api) {
      const { createMlxPlugin } = await import('@fusionkit/mlx');
      loaded = createMlxPlugin(options);
      await loaded.setup(api);
    },
    async teardown() {
      await loaded?.teardown?.();
    },
  };
}
