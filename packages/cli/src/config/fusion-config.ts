import type { FusionOptions, PluginV1, ProviderV1 } from '@fusionkit/core';
import type { McpHttpOptions, McpServerConfig } from '@fusionkit/mcp';
import type { MlxPluginOptions } from '@fusionkit/mlx';
import type { OpenAICompatibleFlavor } from '@fusionkit/openai';
import type { StateOptions } from '../state/open-state.js';

/**
 * How to reach one OpenAI-compatible upstream and how hard to use it. Everything but `baseURL` is
 * optional; the string form `'http://…/v1'` is `{ baseURL }`.
 */
export interface UpstreamOptions {
  /** Base URL with the `/v1` part. @example 'http://127.0.0.1:8000/v1' */
  baseURL: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Extra headers sent with every request. @example { 'x-tenant': 'lab' } */
  headers?: Record<string, string>;
  /** Server quirks to apply (see `@fusionkit/openai`). @default 'auto' */
  flavor?: OpenAICompatibleFlavor;
  /**
   * The upstream serves OpenAI's Responses API itself: `/v1/responses` for its models is passed
   * through instead of translated to chat completions. mlx-openai-server does not. @default false
   */
  responses?: boolean;
  /** Serve only these model ids; discovered from `GET /v1/models` when omitted. */
  models?: string[];
  /**
   * Calls each model of this upstream may run at once; more wait in the orchestrator's queue.
   * @default discovered from mlx-openai-server's `/v1/queue/stats`, else the queue's `perModelConcurrency`
   */
  concurrency?: number;
  /** Connections open at once to this upstream; also caps `concurrency`. @default unlimited */
  maxSockets?: number;
  /** Time allowed for one upstream call (a stream: until its headers), ms. @default 600000 */
  timeoutMs?: number;
  /** Time allowed to each health probe, ms. @default 5000 */
  healthTimeoutMs?: number;
  /**
   * More hosts serving the same models (mlx-openai-server on several Macs): with `baseURL` they are
   * one fleet, served as one upstream; each call goes to the least busy ready host, and a host that
   * goes down leaves the rotation until its `/health` answers again.
   * @example ['http://10.0.0.8:8000/v1', 'http://10.0.0.9:8000/v1']
   */
  fleet?: string[];
}

/** An OpenAI-compatible upstream served as `name/model-id`. */
export interface UpstreamConfig extends UpstreamOptions {
  /** Prefix of its models. @example 'lab' */
  name: string;
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
  /**
   * Upstreams as `{ name: baseURL }`, `{ name: { baseURL, concurrency, … } }` or a list of
   * `{ name, baseURL, … }`. @example { lab: 'http://127.0.0.1:8000/v1', gpu: { baseURL: 'http://10.0.0.2:8000/v1', concurrency: 8 } }
   */
  upstreams?: Record<string, string | UpstreamOptions> | UpstreamConfig[];
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
  mcp?: (Omit<McpHttpOptions, 'fusion' | 'servers'> & McpEndpointServers) | false;
  /**
   * External MCP servers in the `mcpServers` shape of Claude Desktop and Cursor (stdio
   * `{ command, args, env }` or Streamable HTTP `{ url, headers }`), plus the bridge's own options
   * (`include`, `exclude`, `allowDestructive`, timeouts). Their tools join the chat tool loop as
   * `server__tool` (asked for with `fusion_tools`) and, unless `mcp.servers: false`, are re-served
   * on `/mcp` with their resources and prompts.
   * @example { github: { url: 'https://api.githubcopilot.com/mcp/', headers: { Authorization: 'Bearer …' } }, fs: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', './docs'] } }
   */
  mcpServers?: Record<string, McpServerEntry>;
  /**
   * The collections `fusion ingest` made, served at `/api/rag/*` (and as `rag/<collection>` with a
   * `generator`), loaded at start in the background. `false` turns it off. @default {} (on)
   */
  rag?: RagServeOptions | false;
  /** How long shutdown waits for running requests, ms. @default 10000 */
  shutdownTimeoutMs?: number;
  /** Where jobs and traces are kept. @default { store: 'sqlite', dir: '.fusion' } */
  state?: StateOptions;
  /** A Redis URL: jobs and traces in Redis instead (`FUSION_REDIS_URL`). @example 'redis://127.0.0.1:6379' */
  redis?: string;
  /** How this instance runs jobs (`/v1/jobs`, background responses). */
  jobs?: JobsOptions;
}

/** The `jobs` key of a config. */
export interface JobsOptions {
  /**
   * Jobs this instance runs at once (`FUSION_JOBS_CONCURRENCY`); with Redis, each instance of the
   * deployment takes up to this many of the shared jobs. @default 1
   */
  concurrency?: number;
}

/** One entry of `mcpServers`: what `mcpToolsPlugin` takes, plus the keys other clients write. */
export interface McpServerEntry extends McpServerConfig {
  /** Written by some clients; the transport follows from `command` or `url`. */
  type?: 'stdio' | 'http' | 'streamable-http' | 'streamableHttp';
  /** Leave this server out. @default false */
  disabled?: boolean;
}

/** The `mcp.servers` key of a config. */
export interface McpEndpointServers {
  /** Re-serve the `mcpServers` on `/mcp` (tools and prompts as `server__name`, resources as `server+uri`). @default true */
  servers?: boolean;
}

/** The `rag` key of a config. */
export interface RagServeOptions {
  /** State folder; collections live in `<dir>/rag/<name>` (`FUSION_RAG_DIR`). @default '.fusion' */
  dir?: string;
  /** Folders `/api/rag/ingest` may read paths from; none by default (paths are refused). */
  roots?: string[];
  /** Embedding model of collections created through the API. @default none (lexical only) */
  embeddingModel?: string;
  /** Chat model(s) that answer as `rag/<collection>`. @example 'lab/qwen3-4b' */
  generator?: string | string[];
  /** `'lazy'` loads each collection on its first request instead of at start. @default 'startup' */
  load?: 'startup' | 'lazy';
  /**
   * Multi-turn chats with `rag/<collection>`: one generator call first rewrites the last user message
   * as a standalone question from the earlier turns, and that is searched. @default false
   */
  rewrite?: boolean;
}

/** Types a config file; returns it unchanged. */
export function defineConfig(config: FusionConfig): FusionConfig {
  return config;
}
