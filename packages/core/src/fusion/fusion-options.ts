import type { ApiKeyOptions, ApiKeys } from '../auth/api-keys.js';
import type { SecurityOptions } from '../http/request-guard.js';
import type { ResponsesOptions } from '../http/responses/responses-routes.js';
import type { TraceStoreOptions } from '../pipelines/trace-store.js';
import type { ResilienceOptions } from '../resilience/target-health.js';
import type { PipelineDefinition } from '../spec/pipeline/pipeline-definition.js';
import type { PluginV1 } from '../spec/plugin/v1/plugin-v1.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';
import type { FusionTrace } from '../spec/strategy/v1/fusion-trace.js';
import type { ABORT_SCOPE, AbortScope } from '../util/abort-scope.js';

/** Concurrency and waiting limits of the request queue. */
export interface QueueLimits {
  /**
   * Calls running at once across all models: a guard for this process (each open stream holds two
   * sockets and some memory), not a model's limit. @default 10000
   */
  concurrency?: number;
  /**
   * Calls running at once per model, unless `models` says otherwise or the model reports its own
   * limit (`ModelInfo.concurrency`: an mlx-openai-server's `max_concurrency`, an upstream's
   * `concurrency` in `fusion serve`'s config). Calls beyond it wait in this queue, visible in
   * `/v1/queue/stats` and bounded by `maxWaiting`. @default `concurrency`
   */
  perModelConcurrency?: number;
  /** Per-model overrides of `perModelConcurrency`. @example { 'mlx/qwen3-0.6b': 1 } */
  models?: Record<string, number>;
  /** Calls that may wait for a slot, across all models; beyond it requests get 429. @default 1024 */
  maxWaiting?: number;
  /** Calls that may wait per model. @default 256 */
  perModelMaxWaiting?: number;
  /** How long a call may wait before it gets 429. @default 30000 */
  waitTimeoutMs?: number;
}

/** Options of {@link createFusion}. */
export interface FusionOptions {
  /** Providers to register at start. Their models are discovered with `models()`. */
  providers?: ProviderV1[];
  /** Plugins, set up in order. */
  plugins?: PluginV1[];
  /** Model aliases: `{ fast: 'lab/qwen3-0.6b' }`. */
  aliases?: Record<string, string>;
  queue?: QueueLimits;
  /** Largest request body `handle` accepts, in bytes; larger bodies get 413. @default 4 MiB */
  maxBodyBytes?: number;
  /**
   * Bytes that loaded models may occupy together (providers with `load`/`unload`). Loading beyond it
   * unloads the least recently used idle model first. @default unlimited
   */
  memoryBudgetBytes?: number;
  /**
   * When set, `handle` requires `Authorization: Bearer <one of these>` (health stays open): keys in
   * clear, or an {@link ApiKeys} with hashed keys, per-key limits and a shared rate limiter. Routes
   * see the key's `id` as `context.apiKey` (jobs belong to the key that created them).
   */
  apiKeys?: readonly (string | ApiKeyOptions)[] | ApiKeys;
  /**
   * The cross-site guard of every route `handle` serves: allowed `Host` names (against DNS
   * rebinding) and browser origins (CORS). Requests without `Origin` (curl, SDKs, servers) are not
   * concerned. Serving under a name other than localhost or an IP address? Add it to `allowedHosts`.
   * @default { allowedHosts: [] (localhost, *.localhost, IP addresses), allowedOrigins: [] (same-origin) }
   */
  security?: SecurityOptions;
  /** Total time allowed for one chat call, ms. @default 600000 */
  timeoutMs?: number;
  /** Time allowed to the first content token of a stream, ms. @default 120000 */
  firstTokenTimeoutMs?: number;
  /** Time allowed between two chunks of a stream, ms. @default 60000 */
  idleTimeoutMs?: number;
  /**
   * Time allowed for a non-streamed answer of one call, ms (504 `timeout_response`). Servers send
   * nothing before the whole answer is made, so this bounds the generation; a longer one may stream.
   * A target of a pipeline that times out may be retried; a model called by name answers 504.
   * @default 300000
   */
  responseTimeoutMs?: number;
  /** Pipelines served as models (`fusion/moa`, `fusion/fast`). */
  pipelines?: PipelineDefinition[];
  /**
   * Retries, circuit breakers and latency averages of every call: of targets in pipelines and of
   * models called by name. `false` makes every call a single attempt with no breaker.
   * @default 2 retries; a circuit per target that opens after 5 failures in a row or 50% of 20
   */
  resilience?: ResilienceOptions | false;
  /** Where traces of fused answers are kept. @default in memory, 10 minutes, 1000 traces */
  traces?: TraceStoreOptions;
  /**
   * Where the Responses API (`/v1/responses`) keeps stored responses, and the job runner of
   * `background: true` ones. @default in memory (1000 responses, 30 days), a runner of its own
   */
  responses?: ResponsesOptions;
  /** Prefix under which `handle` serves its routes. @example '/ai' @default '' */
  basePath?: string;
  /** How often to refresh provider health, ms; 0 disables. @default 5000 */
  healthIntervalMs?: number;
}

/** Options of one library call (`fusion.chat`, `fusion.stream`, `fusion.embed`). */
export interface RequestOptions {
  signal?: AbortSignal;
  /**
   * @internal The request's scope, given by `handle` instead of `signal`: the call follows it without
   * making its signal.
   */
  [ABORT_SCOPE]?: AbortScope | undefined;
  /** Generated when omitted. */
  requestId?: string;
  /**
   * The `id` of the API key the call is made for: its tokens count against that key's limit
   * (`provider:call:end` carries it). `handle` sets it from the request's key.
   */
  apiKeyId?: string;
  /** Overrides `FusionOptions.timeoutMs` for this call. */
  timeoutMs?: number;
  /** Called when a pipeline starts the request's trace (before the first chunk), with the trace. */
  onTrace?: (trace: FusionTrace) => void;
}

/** Options of `fusion.close`. */
export interface CloseOptions {
  /** How long in-flight requests and streams may take to finish before they are aborted. @default 10000 */
  timeoutMs?: number;
}
