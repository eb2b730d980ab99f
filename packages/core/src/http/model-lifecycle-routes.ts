import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { ModelNotFoundError } from '../errors/model-not-found-error.js';
import type { Fusion } from '../fusion/fusion.js';
import type { RegisteredModel } from '../registry/registered-model.js';
import type { RouteHandler } from '../spec/plugin/v1/plugin-v1.js';
import { readJsonBody } from './read-json-body.js';
import { jsonResponse } from './responses.js';

/** What `GET /v1/models/{id}` adds about a model's memory: whether it is loaded, and the budget. */
export interface ModelLifecycle {
  /** False for models whose server loads them itself (upstreams): load and unload are refused. */
  loadable: boolean;
  loaded?: boolean;
  /** Bytes the model occupies when loaded. */
  memory_bytes?: number;
  /** Unix seconds of its last use; the least recently used idle model is evicted first. */
  last_used_at?: number;
  /** Requests using it now (a model in use is never evicted nor unloaded). */
  in_use: number;
  /** The registry's budget: bytes all loaded models may occupy (`null`: no budget), and in use. */
  memory: { budget_bytes: number | null; loaded_bytes: number };
}

/** The lifecycle part of a model's entry. */
export function modelLifecycle(fusion: Fusion, model: RegisteredModel): ModelLifecycle {
  const { registry } = fusion;
  const loadable = Boolean(model.provider.load && model.provider.unload);
  const budget = registry.memoryBudgetBytes;
  return {
    loadable,
    ...(loadable ? { loaded: model.info.loaded !== false, memory_bytes: registry.bytesOf(model) } : {}),
    ...(model.lastUsed > 0 ? { last_used_at: Math.floor(model.lastUsed / 1000) } : {}),
    in_use: model.inUse,
    memory: { budget_bytes: Number.isFinite(budget) ? budget : null, loaded_bytes: registry.loadedBytes() },
  };
}

function findModel(fusion: Fusion, id: string, param: string): RegisteredModel {
  const model = fusion.registry.find(id);
  if (!model) throw new ModelNotFoundError(`The model '${id}' does not exist.`, { param });
  return model;
}

function loadableModel(fusion: Fusion, id: string, param: string): RegisteredModel {
  const model = findModel(fusion, id, param);
  if (!model.provider.load || !model.provider.unload) {
    throw new InvalidRequestError(
      `The model '${model.id}' is served by '${model.provider.id}', which loads and unloads its own models; only in-process models (mlx/…) are loaded and unloaded here.`,
      { code: 'model_not_loadable', param },
    );
  }
  return model;
}

/**
 * Model lifecycle over HTTP, for providers that manage memory (in-process MLX): `POST
 * /v1/models/load` `{ model, warmup? }` loads a model (evicting least recently used idle models to
 * stay under the memory budget) and, with `warmup: true`, runs a one-token chat so that the first
 * real request is fast; `DELETE /v1/models/{id}` unloads one. Upstream models get `400
 * model_not_loadable`; unknown models `404`.
 */
export function modelLifecycleRoutes(fusion: Fusion): [string, string, RouteHandler][] {
  const load: RouteHandler = async (request, { requestId, signal }) => {
    const body = await readJsonBody(request, 64 * 1024);
    const { model: id, warmup } = (body ?? {}) as { model?: unknown; warmup?: unknown };
    if (typeof id !== 'string' || id === '') {
      throw new InvalidRequestError('model must be the id of a model to load.', { param: 'model' });
    }
    if (warmup !== undefined && typeof warmup !== 'boolean') {
      throw new InvalidRequestError('warmup must be true or false.', { param: 'warmup' });
    }
    const model = loadableModel(fusion, id, 'model');
    await fusion.registry.load(model, signal);
    if (warmup) {
      await fusion.chat(
        { model: model.id, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1 },
        { signal },
      );
    }
    return jsonResponse(
      { ...fusion.registry.toListEntry(model), ...modelLifecycle(fusion, model), warmed_up: Boolean(warmup) },
      200,
      requestId,
    );
  };
  const unload: RouteHandler = async (_request, { requestId, params }) => {
    const model = loadableModel(fusion, params.id ?? '', 'id');
    await fusion.registry.unload(model);
    return jsonResponse(
      { ...fusion.registry.toListEntry(model), ...modelLifecycle(fusion, model) },
      200,
      requestId,
    );
  };
  return [
    ['POST', '/v1/models/load', load],
    ['DELETE', '/v1/models/*id', unload],
  ];
}
