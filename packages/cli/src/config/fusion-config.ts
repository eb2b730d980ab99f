import type { FusionOptions, PluginV1, ProviderV1 } from '@fusionkit/core';
import type { McpHttpOptions } from '@fusionkit/mcp';
import type { MlxPluginOptions } from '@fusionkit/mlx';

/** An OpenAI-compatible upstream served as `name/model-id`. */
export interface UpstreamConfig {
  /** Prefix of its models. @example 'lab' */
  name: string;
  /** Base URL with the `/v1` part. @example 'http://127.0.0.1:8000/v1' */
  baseURL: string;
  apiKey?: string;
  /** Serve only these model ids; discovered from `GET /v1/models` when omitted. */
  models?: string[];
}

/**
 * `fusion.config.{ts,mts,js,mjs,json}`: everything `createFusion` takes, plus where to listen and
 * which upstreams to serve. Environment variables override `host` and `port` and add upstreams.
 *
 * @example
 * import { defineConfig } from '@fusionkit/cli';
 * export default defineConfig({
 *   port: 8080,
 *   upstreams: { lab: 'http://127.0.0.1:8000/v1' },
 *   aliases: { default: 'lab/qwen2.5-0.5b-instruct-4bit' },
 * });
 */
export interface FusionConfig extends Omit<FusionOptions, 'providers' | 'plugins'> {
  /** @default '127.0.0.1' (FUSION_HOST) */
  host?: string;
  /** @default 8080 (FUSION_PORT) */
  port?: number;
  /** Upstreams as `{ name: baseURL }` or a list. */
  upstreams?: Record<string, string> | UpstreamConfig[];
  /** Providers built in code (only in `.ts`/`.js` configs). */
  providers?: ProviderV1[];
  plugins?: PluginV1[];
  /**
   * In-process MLX models: every model directory under `modelsDir` (and, optionally, the Hugging Face
   * cache) is served as `mlx/<name>`. `FUSION_MLX_MODELS` sets `modelsDir`. @example { modelsDir: './models' }
   */
  mlx?: MlxPluginOptions | false;
  /**
   * The orchestrator as an MCP server at `/mcp` (Host and Origin checked, the API keys apply).
   * `false` turns it off. @default {} (on)
   */
  mcp?: Omit<McpHttpOptions, 'fusion'> | false;
  /** How long shutdown waits for running requests, ms. @default 10000 */
  shutdownTimeoutMs?: number;
}

/** Types a config file; returns it unchanged. */
export function defineConfig(config: FusionConfig): FusionConfig {
  return config;
}
