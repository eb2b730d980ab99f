import type { RouterV1, RouteTarget } from '../spec/router/v1/router-v1.js';
import { orderTargetsByHealth, type TargetHealthOptions, toTargets } from './route-health.js';

/** Options of {@link explicitRouter}. */
export interface ExplicitRouterOptions extends TargetHealthOptions {
  /**
   * The targets in order of preference: registered ids, provider-local ids or aliases, or full
   * targets with per-target `params`.
   * @example ['lab/qwen3-4b', { model: 'openai/gpt-4o-mini', params: { temperature: 0 } }]
   */
  targets: readonly (string | RouteTarget)[];
}

/**
 * Routes to the given targets, in the given order, skipping unhealthy and circuit-open ones and
 * putting half-open ones first (they wait for a probe). A target that matches no candidate is kept (see `unknown`).
 *
 * @example explicitRouter({ targets: ['lab/qwen3-4b', 'lab/llama-3.2-3b'] })
 */
export function explicitRouter(options: ExplicitRouterOptions): RouterV1 {
  const targets = toTargets(options.targets);
  return {
    specificationVersion: 'v1',
    name: 'explicit',
    doRoute: (context) => orderTargetsByHealth(targets, context.candidates, options),
  };
}
