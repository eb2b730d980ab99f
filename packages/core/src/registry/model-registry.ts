import { FusionError } from '../errors/fusion-error.js';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { ModelNotFoundError } from '../errors/model-not-found-error.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import { UnavailableError } from '../errors/unavailable-error.js';
import type { EventBus } from '../events/event-bus.js';
import type { HealthStatus } from '../spec/health.js';
import type { ModelInfo } from '../spec/model/model-info.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';
import { type Abortable, isAbortScope } from '../util/abort-scope.js';
import type { ModelListEntry, RegisteredModel } from './registered-model.js';

export interface ModelRegistryOptions {
  events: EventBus;
  /** Bytes loaded models may occupy together. @default Infinity */
  memoryBudgetBytes?: number;
}

interface ProviderEntry {
  provider: ProviderV1;
  models: Set<string>;
  health?: HealthStatus;
}

/** The type a model has when the provider does not say. */
function modelType(info: ModelInfo): string {
  if (info.type) return info.type;
  return info.capabilities?.embeddings && !info.capabilities.chat ? 'embeddings' : 'chat';
}

/**
 * Every model the orchestrator serves: several providers at once, registered and removed at run
 * time, with aliases, capabilities and health; loads and unloads models of providers that manage
 * memory, keeping the loaded set under a byte budget by evicting the least recently used idle model.
 */
export class ModelRegistry {
  readonly #events: EventBus;
  readonly #providers = new Map<string, ProviderEntry>();
  readonly #models = new Map<string, RegisteredModel>();
  readonly #aliases = new Map<string, string>();
  readonly #loading = new Map<string, Promise<void>>();
  /** Bytes promised to loads in progress, by model id: they count against the budget already. */
  readonly #reserved = new Map<string, number>();
  /** Unloads in progress, by model id; their bytes count until the provider has freed them. */
  readonly #unloading = new Map<string, { task: Promise<void>; bytes: number }>();
  readonly #memoryBudgetBytes: number;

  constructor(options: ModelRegistryOptions) {
    this.#events = options.events;
    this.#memoryBudgetBytes = options.memoryBudgetBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Registers a provider and the models it reports. Returns the unregister function. */
  async register(
    provider: ProviderV1,
    options: { aliases?: Record<string, string>; discover?: boolean } = {},
  ): Promise<() => void> {
    if (provider.specificationVersion !== 'v1') {
      throw new InvalidRequestError(
        `Provider '${provider.id}' implements specification '${String(provider.specificationVersion)}'; this orchestrator speaks 'v1'.`,
      );
    }
    if (!/^[\w.-]+$/.test(provider.id)) {
      throw new InvalidRequestError(
        `Provider id '${provider.id}' may only hold letters, digits, '_', '.' and '-'.`,
      );
    }
    if (this.#providers.has(provider.id)) {
      throw new InvalidRequestError(`A provider with id '${provider.id}' is already registered.`);
    }
    const entry: ProviderEntry = { provider, models: new Set() };
    this.#providers.set(provider.id, entry);
    if (options.discover !== false) {
      try {
        await this.refresh(provider.id);
      } catch (error) {
        this.#providers.delete(provider.id);
        throw error;
      }
    }
    for (const [alias, target] of Object.entries(options.aliases ?? {})) this.alias(alias, target);
    return () => this.unregister(provider.id);
  }

  /** Re-reads a provider's model list: new models appear, vanished ones are removed. */
  async refresh(providerId: string, signal?: AbortSignal): Promise<void> {
    const entry = this.#providers.get(providerId);
    if (!entry) throw new ModelNotFoundError(`No provider '${providerId}'.`, { param: null });
    const infos = await entry.provider.models(signal ? { signal } : undefined);
    const seen = new Set<string>();
    for (const info of infos) {
      const id = `${providerId}/${info.id}`;
      seen.add(id);
      const existing = this.#models.get(id);
      if (existing) {
        existing.info = info;
        continue;
      }
      this.#models.set(id, {
        id,
        localId: info.id,
        provider: entry.provider,
        info,
        inUse: 0,
        lastUsed: 0,
        status: entry.health?.status ?? 'ready',
      });
      entry.models.add(id);
      this.#events.emit('model:register', { model: id, provider: providerId });
    }
    for (const id of entry.models) {
      if (!seen.has(id)) this.#removeModel(id, entry);
    }
  }

  /** Removes a provider and its models. Requests already running finish. */
  unregister(providerId: string): void {
    const entry = this.#providers.get(providerId);
    if (!entry) return;
    for (const id of [...entry.models]) this.#removeModel(id, entry);
    this.#providers.delete(providerId);
  }

  /** Makes `alias` another name of `target` (a model id or another alias). */
  alias(alias: string, target: string): void {
    this.#aliases.set(alias, target);
  }

  /** Removes an alias. */
  unalias(alias: string): void {
    this.#aliases.delete(alias);
  }

  /** The aliases, as given: alias → target. */
  aliases(): ReadonlyMap<string, string> {
    return this.#aliases;
  }

  /** What an alias finally names (aliases of aliases followed); `undefined` when `name` is none. */
  aliasTarget(name: string): string | undefined {
    if (!this.#aliases.has(name)) return undefined;
    let target = name;
    for (let hops = 0; hops < 8 && this.#aliases.has(target); hops++) target = this.#aliases.get(target)!;
    return target;
  }

  providers(): ProviderV1[] {
    return [...this.#providers.values()].map((entry) => entry.provider);
  }

  provider(id: string): ProviderV1 | undefined {
    return this.#providers.get(id)?.provider;
  }

  list(): RegisteredModel[] {
    return [...this.#models.values()];
  }

  /** Finds a model by id, alias, or unprefixed id when exactly one provider has it. */
  find(name: string): RegisteredModel | undefined {
    const direct = this.#models.get(name);
    if (direct) return direct;
    const target = this.aliasTarget(name) ?? name;
    const aliased = this.#models.get(target);
    if (aliased) return aliased;
    // `target` is `name` itself when no alias applies; an alias may name an unprefixed id too.
    let match: RegisteredModel | undefined;
    for (const model of this.#models.values()) {
      if (model.localId !== target) continue;
      if (match) return undefined; // ambiguous: the client must name the provider
      match = model;
    }
    return match;
  }

  /**
   * Like {@link find}, but throws: 503 when the model's provider is registered but has listed no
   * model yet (an upstream that is down: the error names it and why), 404 `model_not_found`
   * otherwise (naming an alias's missing target, not only the alias).
   */
  resolve(name: string): RegisteredModel {
    const model = this.find(name);
    if (model) return model;
    const target = this.aliasTarget(name);
    const wanted = target ?? name;
    const slash = wanted.indexOf('/');
    const providerId = slash > 0 ? wanted.slice(0, slash) : undefined;
    const entry = providerId === undefined ? undefined : this.#providers.get(providerId);
    if (entry && entry.models.size === 0) {
      const reason = entry.health?.message?.replace(/\.$/, '');
      const subject =
        target === undefined ? `The model '${name}'` : `The alias '${name}' names '${target}', which`;
      throw new UnavailableError(
        `${subject} cannot be served yet: provider '${providerId}' has listed no model${reason ? ` (${reason})` : ''}. Its models are served once it answers.`,
        { retryAfterMs: 5000 },
      );
    }
    const subject =
      target === undefined ? `The model '${name}'` : `The alias '${name}' names '${target}', which`;
    const ids = entry ? [...entry.models] : [];
    const served = entry
      ? ` '${providerId}' serves ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}.`
      : '';
    throw new ModelNotFoundError(
      `${subject} does not exist.${served} GET /v1/models lists the available models.`,
    );
  }

  /**
   * Marks a model in use for one request, loading it first when its provider manages memory.
   * Returns the release function. A model in use is never evicted.
   */
  async use(model: RegisteredModel, signal?: Abortable): Promise<() => void> {
    model.inUse++;
    model.lastUsed = Date.now();
    try {
      if (model.provider.load && model.info.loaded === false)
        await this.load(model, isAbortScope(signal) ? signal.signal : signal);
    } catch (error) {
      model.inUse--;
      throw error;
    }
    return releaseUse(model);
  }

  /**
   * {@link ModelRegistry.use} at once for a model that needs no loading; `undefined` when it does
   * (then use `use`).
   */
  useNow(model: RegisteredModel): (() => void) | undefined {
    if (model.provider.load && model.info.loaded === false) return undefined;
    model.inUse++;
    model.lastUsed = Date.now();
    return releaseUse(model);
  }

  /** Loads a model, evicting least-recently-used idle models to stay under the memory budget. */
  async load(model: RegisteredModel, signal?: AbortSignal): Promise<void> {
    const pending = this.#loading.get(model.id);
    if (pending) return pending;
    const task = this.#load(model, signal).finally(() => this.#loading.delete(model.id));
    this.#loading.set(model.id, task);
    return task;
  }

  /** Unloads a model when its provider supports it. Refuses while the model is in use. */
  async unload(model: RegisteredModel, reason: 'request' | 'evicted' = 'request'): Promise<void> {
    if (!model.provider.unload) return;
    const pending = this.#unloading.get(model.id);
    if (pending) return pending.task;
    if (model.inUse > 0) {
      // A conflict with the model's state, not an outage: 409, worth retrying once it is idle.
      throw new FusionError({
        message: `Model '${model.id}' is serving ${model.inUse} request(s) and cannot be unloaded now; try again when it is idle.`,
        code: 'model_busy',
        status: 409,
        isRetryable: true,
        retryAfterMs: 1000,
      });
    }
    // Marked unloaded before the provider is done, so a request arriving meanwhile loads it again
    // (after this unload) instead of running on a model that is going away.
    const wasLoaded = model.info.loaded;
    model.info = { ...model.info, loaded: false };
    const task = model.provider
      .unload(model.localId)
      .then(
        () => {
          this.#events.emit('model:unload', { model: model.id, reason });
        },
        (error: unknown) => {
          model.info = { ...model.info, loaded: wasLoaded };
          throw toFusionError(error);
        },
      )
      .finally(() => this.#unloading.delete(model.id));
    this.#unloading.set(model.id, { task, bytes: wasLoaded ? this.#bytes(model) : 0 });
    return task;
  }

  /** Bytes loaded models may occupy together (`Infinity` without a budget). */
  get memoryBudgetBytes(): number {
    return this.#memoryBudgetBytes;
  }

  /** Bytes a model occupies when loaded, as its provider reports (0 when unknown). */
  bytesOf(model: RegisteredModel): number {
    return this.#bytes(model);
  }

  /** Bytes the loaded models occupy, as their providers report. */
  loadedBytes(): number {
    let total = 0;
    for (const model of this.#models.values()) if (model.info.loaded) total += this.#bytes(model);
    return total;
  }

  /** Applies a provider's health report to its models. */
  setHealth(providerId: string, health: HealthStatus): void {
    const entry = this.#providers.get(providerId);
    if (!entry) return;
    entry.health = health;
    for (const id of entry.models) {
      const model = this.#models.get(id);
      if (!model) continue;
      model.status = health.models?.[model.localId] ?? health.status;
      model.statusMessage = health.message;
    }
  }

  health(providerId: string): HealthStatus | undefined {
    return this.#providers.get(providerId)?.health;
  }

  /** The `/v1/models` entry of a model. */
  toListEntry(model: RegisteredModel): ModelListEntry {
    const { info } = model;
    const entry: ModelListEntry = {
      id: model.id,
      object: 'model',
      created: info.created ?? 0,
      owned_by: info.owned_by ?? model.provider.id,
      type: modelType(info),
      status: model.status,
    };
    if (info.family !== undefined) entry.family = info.family;
    if (info.context_length !== undefined) entry.context_length = info.context_length;
    if (info.tags !== undefined) entry.tags = info.tags;
    if (info.description !== undefined) entry.description = info.description;
    if (info.capabilities !== undefined) entry.capabilities = info.capabilities;
    if (info.loaded !== undefined) entry.loaded = info.loaded;
    // Provider metadata is shown too, but never overrides the fields above.
    return info.metadata ? { ...info.metadata, ...entry } : entry;
  }

  async #load(model: RegisteredModel, signal?: AbortSignal): Promise<void> {
    await this.#unloading.get(model.id)?.task.catch(() => {});
    if (model.info.loaded) return;
    const bytes = this.#bytes(model);
    await this.#makeRoom(bytes, model);
    const startedAt = Date.now();
    try {
      await model.provider.load!(model.localId, signal ? { signal } : undefined);
    } catch (error) {
      const fusionError = toFusionError(error);
      this.#events.emit('model:error', { model: model.id, error: fusionError });
      throw fusionError;
    } finally {
      this.#reserved.delete(model.id);
    }
    model.info = { ...model.info, loaded: true };
    this.#events.emit('model:load', { model: model.id, bytes, durationMs: Date.now() - startedAt });
  }

  /** Evicts until `bytes` fit, then reserves them for `loading` (in the same tick as the last check). */
  async #makeRoom(bytes: number, loading: RegisteredModel): Promise<void> {
    if (!Number.isFinite(this.#memoryBudgetBytes)) return;
    if (bytes > this.#memoryBudgetBytes) {
      throw new UnavailableError(
        `Model '${loading.id}' needs ${bytes} bytes, more than the whole memory budget of ${this.#memoryBudgetBytes}.`,
        { code: 'memory_budget_exceeded', isRetryable: false },
      );
    }
    while (this.#occupiedBytes() + bytes > this.#memoryBudgetBytes) {
      const victim = [...this.#models.values()]
        .filter(
          (model) => model.info.loaded && model.inUse === 0 && model !== loading && model.provider.unload,
        )
        .sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (victim) {
        await this.unload(victim, 'evicted');
        continue;
      }
      // Memory another load's eviction is freeing right now may be enough.
      const freeing = this.#unloading.values().next().value;
      if (freeing) {
        await freeing.task.catch(() => {});
        continue;
      }
      throw new UnavailableError(
        `Not enough memory to load '${loading.id}': every loaded model is serving requests. Retry shortly.`,
        { retryAfterMs: 1000 },
      );
    }
    this.#reserved.set(loading.id, bytes);
  }

  /** Loaded bytes plus those of loads and unloads in progress. */
  #occupiedBytes(): number {
    let total = this.loadedBytes();
    for (const bytes of this.#reserved.values()) total += bytes;
    for (const { bytes } of this.#unloading.values()) total += bytes;
    return total;
  }

  #bytes(model: RegisteredModel): number {
    return model.provider.memoryBytes?.(model.localId) ?? model.info.memory_bytes ?? 0;
  }

  #removeModel(id: string, entry: ProviderEntry): void {
    this.#models.delete(id);
    entry.models.delete(id);
    this.#events.emit('model:unregister', { model: id, provider: entry.provider.id });
  }
}

/** Gives a model's use back, once. */
function releaseUse(model: RegisteredModel): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    model.inUse--;
    model.lastUsed = Date.now();
  };
}
