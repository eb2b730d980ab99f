import type { PluginV1 } from '@fusionkit/core';

/**
 * A plugin whose package is imported only when the orchestrator sets it up, so a `fusion` command
 * that does not use it does not pay for loading it.
 */
export function lazyPlugin(name: string, load: () => Promise<PluginV1>): PluginV1 {
  let loaded: PluginV1 | undefined;
  return {
    specificationVersion: 'v1',
    name,
    async setup(api) {
      loaded = await load();
      await loaded.setup(api);
    },
    async teardown() {
      await loaded?.teardown?.();
    },
  };
}
