import {
  type ChatRequest,
  type ChatResult,
  type FusionStrategyV1,
  type RouteTarget,
  type StrategyContext,
  UnsupportedError,
} from '@fusionkit/core';
import type { Collection } from '../store/collection.js';
import type { RagAnswerOptions } from './rag-answer-strategy.js';
import type { RagFusion } from './rag-plugin-options.js';

/** What {@link answerInProcess} needs: the strategy and where its generator calls go. */
export interface InProcessAnswerOptions {
  /** The answer strategy over one opened collection (a key's own is not found by name alone). */
  strategyFor: (collection: Collection) => FusionStrategyV1<RagAnswerOptions>;
  /** The generator targets, in order. */
  targets: readonly (string | RouteTarget)[];
  fusion: () => RagFusion | undefined;
  /** The pipelines' options besides the collection (its `mode`). */
  options?: Omit<RagAnswerOptions, 'collection'>;
}

/**
 * Runs the RAG answer strategy for one collection without a registered `rag/<collection>` model:
 * each target call is an ordinary `fusion.chat` of the generator (queue, retries and breakers
 * apply). The key-owned collections, which no model serves, answer `POST /api/rag/answer` this way.
 */
export function answerInProcess(settings: InProcessAnswerOptions) {
  const targets: RouteTarget[] = settings.targets.map((target) =>
    typeof target === 'string' ? { model: target } : target,
  );
  return async (
    opened: Collection,
    request: ChatRequest,
    { requestId, signal, apiKeyId }: { requestId: string; signal: AbortSignal; apiKeyId?: string },
  ): Promise<ChatResult> => {
    const fusion = settings.fusion();
    const collection = opened.name;
    const strategy = settings.strategyFor(opened);
    if (!fusion) {
      throw new UnsupportedError('Answers need the orchestrator: ragPlugin({ fusion: () => fusion }).');
    }
    const context: StrategyContext<RagAnswerOptions> = {
      request,
      targets,
      options: { ...settings.options, collection },
      callOptions: { signal, requestId, ...(apiKeyId === undefined ? {} : { apiKeyId }) },
      call: (target, targetRequest) =>
        // The generator's tokens are the asking key's.
        fusion.chat(
          { ...targetRequest, ...target.params, model: target.model },
          { signal, requestId, apiKeyId },
        ),
      stream: () => {
        throw new UnsupportedError('/api/rag/answer answers in one piece.');
      },
      trace: {
        id: requestId,
        requestId,
        model: `rag/${collection}`,
        strategy: strategy.name,
        startedAt: Date.now(),
        calls: [],
      },
      record: () => {},
    };
    return strategy.doChat(context);
  };
}
