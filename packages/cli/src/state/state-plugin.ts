import type { PluginV1 } from '@fusionkit/core';
import type { FusionState } from './open-state.js';

/**
 * Closes the state when the orchestrator closes. Put it first among the plugins: plugins are torn
 * down in reverse order, so the jobs plugin writes its last changes before the state closes.
 */
export function statePlugin(state: FusionState): PluginV1 {
  return {
    specificationVersion: 'v1',
    name: 'state',
    setup() {},
    teardown: () => state.close(),
  };
}
