/** What a model can do. Routers match requests against these. */
export interface ModelCapabilities {
  /** Answers chat completions. @default true for non-embedding models */
  chat?: boolean;
  /** Produces embeddings. */
  embeddings?: boolean;
  /** Accepts `tools` / `tool_choice`. */
  tools?: boolean;
  /** Honours `response_format: { type: 'json_schema' }`. */
  json_schema?: boolean;
  /** Accepts image parts. */
  vision?: boolean;
}

/** Price per million tokens, in any currency unit the deployment chooses. Used by cost-aware routing. */
export interface ModelPricing {
  input: number;
  output: number;
}

/**
 * A model as a provider describes it. The registry prefixes `id` with the provider's id when it
 * serves it (`lab` + `qwen` → `lab/qwen`), and fills the OpenAI `/v1/models` fields from this.
 */
export interface ModelInfo {
  /** Id within the provider. @example 'qwen2.5-0.5b-instruct-4bit' */
  id: string;
  /** @default 'chat' (or 'embeddings' when only `capabilities.embeddings` is set) */
  type?: 'chat' | 'embeddings' | 'pipeline' | (string & {});
  capabilities?: ModelCapabilities;
  /** Context window in tokens. */
  context_length?: number;
  /** @example 'qwen2' */
  family?: string;
  tags?: string[];
  description?: string;
  /** Unix seconds. */
  created?: number;
  /** @example 'local-mlx' */
  owned_by?: string;
  pricing?: ModelPricing;
  /**
   * Bytes the model occupies once loaded. With `load`/`unload` on the provider, the registry uses it
   * to keep the sum of loaded models under its memory budget.
   */
  memory_bytes?: number;
  /**
   * Calls the model can serve at once. The orchestrator's queue runs at most this many and makes
   * the rest wait in its own line, where they are counted, bounded and timed, instead of letting
   * them pile up upstream. Providers fill it from what the server reports (mlx-openai-server's
   * `max_concurrency`) or from their options; `queue.models` in the orchestrator's options wins.
   * @default the queue's `perModelConcurrency`
   */
  concurrency?: number;
  /** Whether the model is loaded now; `undefined` when the provider has no notion of loading. */
  loaded?: boolean;
  /** Anything else the provider wants to show in `/v1/models`. */
  metadata?: Record<string, unknown>;
}
