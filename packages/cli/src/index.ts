/**
 * `@fusionkit/cli`: the `fusion` command, and `defineConfig` for typed `fusion.config.ts` files.
 *
 * @example
 * // fusion.config.ts
 * import { defineConfig } from '@fusionkit/cli';
 * export default defineConfig({ upstreams: { lab: 'http://127.0.0.1:8000/v1' } });
 * @module
 */
export type { CliContext } from './commands/cli-context.js';
export { createFusionFromConfig } from './commands/create-fusion-from-config.js';
export { ConfigError, type ConfigProblem } from './config/config-error.js';
export { configJsonSchema, fusionConfigSchema, fusionEnvSchema } from './config/config-schema.js';
export {
  defineConfig,
  type FusionConfig,
  type UpstreamConfig,
  type UpstreamOptions,
} from './config/fusion-config.js';
export { parseUpstreams } from './config/parse-upstreams.js';
export { type ResolvedConfig, resolveConfig } from './config/resolve-config.js';
export { SharedJobRunner, type SharedJobRunnerOptions } from './jobs/shared-job-runner.js';
export { runCli } from './run-cli.js';
export { type FusionState, openState, type StateOptions } from './state/open-state.js';
