import type { ModelInfo } from '../spec/model/model-info.js';
import type { RouterV1, TargetState } from '../spec/router/v1/router-v1.js';
import { CandidateRanking } from './candidate-ranking.js';
import { estimatePromptTokens, hasImageParts } from './estimate-tokens.js';

/** Options of {@link capabilityRouter}. */
export interface CapabilityRouterOptions {
  /**
   * How to treat a capability the model leaves undeclared: `'allow'` assumes it is there (the call
   * path's own check does the same and lets the upstream decide); `'deny'` keeps only models that
   * declare it.
   * @default 'allow'
   */
  unknown?: 'allow' | 'deny';
  /**
   * Completion tokens to reserve when the request sets no `max_tokens`, for the context length check.
   * @default 0
   */
  defaultCompletionTokens?: number;
}

function isChatModel(info: ModelInfo): boolean {
  const capabilities = info.capabilities;
  if (info.type === 'embeddings' || capabilities?.chat === false) return false;
  return !(capabilities?.embeddings && capabilities.chat === undefined && !info.type);
}

/**
 * Keeps the candidates that can serve the request, in candidate order: chat models that accept its
 * `tools`, its `response_format: json_schema`, its image parts, and whose context length holds the
 * prompt (estimated as characters / 4) plus `max_tokens`. Health-aware like every router.
 *
 * @example capabilityRouter({ unknown: 'deny' })
 */
export function capabilityRouter(options: CapabilityRouterOptions = {}): RouterV1 {
  const ranking = new CandidateRanking();
  const allowUnknown = options.unknown !== 'deny';
  const defaultCompletionTokens = options.defaultCompletionTokens ?? 0;
  // Per-decision needs, set before each (synchronous) ranking so the score allocates no closure.
  let needsTools = false;
  let needsJsonSchema = false;
  let needsVision = false;
  let neededTokens = 0;
  const has = (declared: boolean | undefined) => declared ?? allowUnknown;
  const score = (state: TargetState): number => {
    const info = state.info;
    if (!isChatModel(info)) return Number.NaN;
    const capabilities = info.capabilities;
    if (needsTools && !has(capabilities?.tools)) return Number.NaN;
    if (needsJsonSchema && !has(capabilities?.json_schema)) return Number.NaN;
    if (needsVision && !has(capabilities?.vision)) return Number.NaN;
    if (info.context_length !== undefined && neededTokens > info.context_length) return Number.NaN;
    return 0;
  };
  return {
    specificationVersion: 'v1',
    name: 'capability',
    doRoute(context) {
      const request = context.request;
      needsTools = (request.tools?.length ?? 0) > 0;
      needsJsonSchema = request.response_format?.type === 'json_schema';
      needsVision = hasImageParts(request);
      neededTokens = estimatePromptTokens(request) + (request.max_tokens ?? defaultCompletionTokens);
      return ranking.rank(context.candidates, score);
    },
  };
}
