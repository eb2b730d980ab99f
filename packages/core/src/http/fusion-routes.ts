import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { NotFoundError } from '../errors/not-found-error.js';
import type { Fusion } from '../fusion/fusion.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { PipelineDefinition } from '../spec/pipeline/pipeline-definition.js';
import type { RouteHandler } from '../spec/plugin/v1/plugin-v1.js';
import type { FusionTrace } from '../spec/strategy/v1/fusion-trace.js';
import { parseChatRequest } from '../validation/chat-request-schema.js';
import { readJsonBody } from './read-json-body.js';
import { jsonResponse, withErrorHeaders } from './responses.js';

/** Fields of `POST /api/fusion/chat` that describe the fusion; the rest is the chat request. */
interface InlineFusion {
  strategy?: unknown;
  targets?: unknown;
  router?: unknown;
  limits?: unknown;
}

/** Checks an inline fusion spec and makes a one-off pipeline definition of it. */
function inlineDefinition(body: InlineFusion): PipelineDefinition {
  const { strategy, targets, router, limits } = body;
  const spec = typeof strategy === 'string' ? { name: strategy } : strategy;
  if (typeof spec !== 'object' || spec === null || typeof (spec as { name?: unknown }).name !== 'string') {
    throw new InvalidRequestError("'strategy' must be a strategy name or { name, options }.", {
      param: 'strategy',
    });
  }
  const { name, options } = spec as { name: string; options?: unknown };
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new InvalidRequestError("'strategy.options' must be an object.", { param: 'strategy.options' });
  }
  const validTarget = (target: unknown) =>
    typeof target === 'string' ||
    (typeof target === 'object' &&
      target !== null &&
      typeof (target as { model?: unknown }).model === 'string');
  if (!Array.isArray(targets) || targets.length === 0 || targets.length > 32 || !targets.every(validTarget)) {
    throw new InvalidRequestError("'targets' must list 1 to 32 model ids (or { model, params, weight }).", {
      param: 'targets',
    });
  }
  if (router !== undefined && typeof router !== 'string') {
    throw new InvalidRequestError("'router' must be a router name.", { param: 'router' });
  }
  if (limits !== undefined && (typeof limits !== 'object' || limits === null || Array.isArray(limits))) {
    throw new InvalidRequestError("'limits' must be an object.", { param: 'limits' });
  }
  const definition: PipelineDefinition = {
    name: 'fusion/inline',
    strategy: name,
    targets: targets as PipelineDefinition['targets'],
  };
  if (options) definition.options = options as Record<string, unknown>;
  if (router) definition.router = router;
  if (limits) definition.limits = limits as PipelineDefinition['limits'];
  return definition;
}

/** `/api/fusion/*`: what the OpenAI shape cannot carry (inline strategies, full traces). */
export function fusionRoutes(fusion: Fusion): [string, string, RouteHandler][] {
  const chat: RouteHandler = async (request, { requestId, signal, apiKey }) => {
    const body = (await readJsonBody(request, fusion.maxBodyBytes)) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new InvalidRequestError('The request body must be a JSON object.');
    }
    const { strategy, targets, router, limits, ...rest } = body;
    if (rest.stream === true) {
      throw new InvalidRequestError(
        '/api/fusion/chat answers in one piece; stream a pipeline through /v1/chat/completions.',
        {
          param: 'stream',
        },
      );
    }
    const pipeline = fusion.inlinePipeline(inlineDefinition({ strategy, targets, router, limits }));
    const chatRequest = parseChatRequest({ ...rest, model: pipeline.name });
    let trace: FusionTrace | undefined;
    let answer: ChatResult;
    try {
      answer = await fusion.runPipeline(pipeline, chatRequest, {
        requestId,
        signal,
        apiKeyId: apiKey?.id,
        onTrace: (started) => {
          trace = started;
        },
      });
    } catch (error) {
      // The trace of a failed request is the one worth reading.
      throw trace ? withErrorHeaders(error, { 'x-fusion-trace-id': trace.id }) : error;
    }
    return jsonResponse(
      { answer, trace },
      200,
      requestId,
      trace ? { 'x-fusion-trace-id': trace.id } : undefined,
    );
  };

  const strategies: RouteHandler = (_request, { requestId }) =>
    jsonResponse(
      {
        object: 'list',
        data: [...fusion.strategies.values()].map((strategy) => ({
          name: strategy.name,
          description: strategy.description ?? '',
        })),
      },
      200,
      requestId,
    );

  const pipelines: RouteHandler = (_request, { requestId }) =>
    jsonResponse(
      {
        object: 'list',
        data: [...fusion.pipelines.values()].map((pipeline) => ({
          name: pipeline.name,
          description: pipeline.definition.description ?? '',
          strategy: pipeline.strategy.name,
          options: pipeline.definition.options ?? {},
          router: pipeline.router.name,
          targets: pipeline.targets,
          limits: pipeline.definition.limits ?? {},
        })),
      },
      200,
      requestId,
    );

  const trace: RouteHandler = async (_request, { requestId, params, apiKey }) => {
    const found = await fusion.traces.get(params.id ?? '');
    // With API keys on, a trace (its calls' outputs) is its key's, and admin keys', alone.
    if (!found || (apiKey && apiKey.admin !== true && found.apiKeyId !== apiKey.id))
      throw new NotFoundError(`No trace '${params.id}': traces are kept for a while, then forgotten.`);
    return jsonResponse(found, 200, requestId);
  };

  return [
    ['POST', '/api/fusion/chat', chat],
    ['GET', '/api/fusion/strategies', strategies],
    ['GET', '/api/fusion/pipelines', pipelines],
    ['GET', '/api/fusion/traces/:id', trace],
  ];
}
