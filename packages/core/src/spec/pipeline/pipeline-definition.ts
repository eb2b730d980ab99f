import type { ModelCapabilities } from '../model/model-info.js';
import type { RouterV1, RouteTarget } from '../router/v1/router-v1.js';
import type { FusionStrategyV1 } from '../strategy/v1/fusion-strategy-v1.js';

/** Caps on the work one fused request may do (OWASP LLM10, unbounded consumption). */
export interface BudgetLimits {
  /** Target calls, retries included. @default 16 */
  maxCalls?: number;
  /** Tokens over all calls (prompt and completion). @default unlimited */
  maxTokens?: number;
  /** Wall time of the whole fused request, ms; strategies that wait on several calls answer with what arrived before it, marked partial. @default the request timeout */
  timeoutMs?: number;
}

/** Limits of a pipeline: its fan-out budget, plus how many of its requests may run at once. */
export interface PipelineLimits extends BudgetLimits {
  /** Requests of this pipeline running at once; more are refused at admission with 429. @default unlimited */
  maxConcurrent?: number;
}

/**
 * A named composition served as a model: any OpenAI client uses it by choosing `name` as `model`.
 *
 * @example
 * definePipeline({
 *   name: 'fusion/fast',
 *   strategy: 'race',
 *   options: { hedgeDelayMs: 250 },
 *   targets: ['mac1/qwen3-4b', 'mac2/qwen3-4b'],
 *   limits: { maxCalls: 4, timeoutMs: 30_000 },
 * });
 */
export interface PipelineDefinition {
  /** The model id clients use. @example 'fusion/moa' */
  name: string;
  /** Shown in `/v1/models`. */
  description?: string;
  /** A registered strategy's name (`single`, `fallback`, `race`, `vote`, `best-of-n`, `mixture-of-agents`) or a strategy. @default 'single' */
  strategy?: string | FusionStrategyV1;
  /** The strategy's options (e.g. `{ samples: 5 }` for `vote`). */
  options?: Record<string, unknown>;
  /** A router's name (`explicit`, `capability`, `least-busy`, `latency`, `cost`, `weighted`) or a router. @default 'explicit' */
  router?: string | RouterV1;
  /** The models it may use, as ids, aliases or targets with weights and parameter overrides. */
  targets: (string | RouteTarget)[];
  limits?: PipelineLimits;
  /** What the pipeline can do, as `/v1/models` shows it. */
  capabilities?: ModelCapabilities;
}
