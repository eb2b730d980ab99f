/**
 * The in-process MLX provider: chat and embedding models from mlx-community directories, run by
 * a supervised worker process (see {@link WorkerSupervisor}).
 */
import {
  type CallOptions,
  type ChatChunk,
  type ChatRequest,
  type ChatResult,
  type EmbedRequest,
  type EmbedResult,
  FusionError,
  type HealthStatus,
  InvalidRequestError,
  type ModelInfo,
  ModelNotFoundError,
  UnavailableError,
  UnsupportedError,
} from '@fusionkit/core';
import { abortReason } from '@fusionkit/core/internal';
import { NATIVE_LIBRARY_MISSING } from '../mlx/native-library-error.js';
import { type WorkerCommand, type WorkerCrash, WorkerSupervisor } from '../supervisor/worker-supervisor.js';
import { WORKER_DEBUG, type WorkerDebugAction } from '../testing/worker-test-hooks.js';
import type { EmbedResultValue, LoadedModelInfo, LoadOptions, MemoryReport } from '../worker/protocol.js';
import { resolveWorkerEntry } from '../worker-entry.js';
import { streamChat } from './chat-stream.js';
import { collectChatResult } from './collect-chat-result.js';
import { checkChatRequest } from './map-chat-request.js';
import { hideDirectory, mapWorkerError } from './map-worker-error.js';
import { mlxHealth } from './mlx-health.js';
import type { MlxProvider, MlxWorkerStatus } from './mlx-provider.js';
import type { MlxProviderOptions } from './mlx-provider-options.js';
import { type CatalogEntry, ModelCatalog, type SkippedModel } from './model-catalog.js';

/** Worker crashes while loading one model after which it is no longer reloaded automatically. */
const MAX_CRASHED_LOADS = 2;

class MlxProviderImpl implements MlxProvider {
  readonly specificationVersion = 'v1' as const;
  readonly id: string;
  readonly #options: MlxProviderOptions;
  readonly #catalog: ModelCatalog;
  readonly #supervisor: WorkerSupervisor;
  /** Why node-mlx cannot load on this machine (a missing Debian package), once a load found out. */
  #nativeFailure: string | undefined;
  /** Listeners of {@link watchModels}, told when a model is no longer loaded by no call of ours. */
  readonly #stateListeners = new Set<() => void>();
  /** Test hooks: loads and worker starts still to crash. */
  #crashLoads = 0;
  #crashStarts = 0;

  constructor(options: MlxProviderOptions) {
    this.#options = options;
    this.id = options.id ?? 'mlx';
    this.#catalog = new ModelCatalog(
      {
        ...(options.modelsDir !== undefined ? { modelsDir: options.modelsDir } : {}),
        huggingFaceCache: options.huggingFaceCache ?? true,
        ...(options.models ? { models: options.models } : {}),
        ...(options.env ? { env: options.env } : {}),
      },
      options.maxWaitingPerModel ?? 16,
    );
    this.#supervisor = new WorkerSupervisor({
      entry: resolveWorkerEntry(),
      ...(options.workerEnv ? { env: options.workerEnv } : {}),
      ...(options.restartDelayMs !== undefined ? { restartDelayMs: options.restartDelayMs } : {}),
      ...(options.maxRestartDelayMs !== undefined ? { maxRestartDelayMs: options.maxRestartDelayMs } : {}),
      onCrash: (crash) => this.#onCrash(crash),
      onRestart: (call) => this.#restore(call),
      nextStartEnv: () => {
        if (this.#crashStarts === 0) return undefined;
        this.#crashStarts--;
        return { FUSIONKIT_MLX_TEST_EXIT_AT_START: '1' };
      },
    });
  }

  async models(): Promise<ModelInfo[]> {
    this.#catalog.refresh();
    return [...this.#catalog.entries.values()]
      .filter((entry) => entry.manifest)
      .map((entry) => this.#catalog.info(entry));
  }

  skippedModels(): SkippedModel[] {
    this.#catalog.refresh();
    return this.#catalog.skipped();
  }

  modelDirectories(): Record<string, string> {
    this.#catalog.refresh();
    return Object.fromEntries(
      [...this.#catalog.entries.values()].map((entry) => [entry.id, entry.location.path]),
    );
  }

  watchModels(listener: () => void, options: { intervalMs?: number } = {}): () => void {
    let last = this.#catalog.signature();
    const timer = setInterval(() => {
      const current = this.#catalog.signature();
      if (current === last) return;
      last = current;
      listener();
    }, options.intervalMs ?? 2000);
    timer.unref();
    const onStateChange = () => listener();
    this.#stateListeners.add(onStateChange);
    return () => {
      clearInterval(timer);
      this.#stateListeners.delete(onStateChange);
    };
  }

  workerStatus(): MlxWorkerStatus {
    return {
      state: this.#supervisor.state,
      pid: this.#supervisor.pid,
      restarts: this.#supervisor.restarts,
      recycles: this.#supervisor.recycles,
      lastCrash: this.#supervisor.lastCrash,
    };
  }

  memoryReport(): Promise<MemoryReport> {
    return this.#supervisor.call<MemoryReport>({ type: 'memory' });
  }

  /** Test hooks (see `crashWorker`); the worker ignores them unless it runs with test hooks on. */
  async [WORKER_DEBUG](debug: WorkerDebugAction): Promise<unknown> {
    if (debug.action === 'crash-loads') this.#crashLoads = debug.count;
    else if (debug.action === 'crash-starts') this.#crashStarts = debug.count;
    else return this.#supervisor.call({ type: 'debug', action: debug.action });
    return undefined;
  }

  memoryBytes(model: string): number | undefined {
    const entry = this.#catalog.get(model);
    return entry?.manifest ? this.#catalog.memoryBytes(entry) : undefined;
  }

  async health(): Promise<HealthStatus> {
    return mlxHealth({
      state: this.#supervisor.state,
      lastCrash: this.#supervisor.lastCrash,
      entries: this.#catalog.entries.values(),
      nativeFailure: this.#nativeFailure,
    });
  }

  /** Loads a model; also gives a model disabled after crashing the worker another chance. */
  async load(model: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const entry = this.#servable(model, true);
    if (entry.state === 'loaded') return;
    if (entry.loading) return entry.loading;
    if (options.signal?.aborted) throw abortReason(options.signal);
    return this.#startLoad(entry, (command) => this.#supervisor.call(command));
  }

  /**
   * Loads `entry` through `send` (the supervisor, or a restarting worker directly). A load that
   * crashes the worker fails with 503 `model_crashed`; a model being restored stays so unless the
   * load failed for another reason or the model is now disabled.
   */
  #startLoad(entry: CatalogEntry, send: (command: WorkerCommand) => Promise<unknown>): Promise<void> {
    entry.state = 'loading';
    const crash = this.#crashLoads > 0;
    if (crash) this.#crashLoads--;
    const task: Promise<void> = send({
      type: 'load',
      model: entry.id,
      path: entry.location.path,
      options: this.#loadOptions(),
      ...(crash ? { crash } : {}),
    })
      .then(
        (info) => {
          entry.loaded = info as LoadedModelInfo;
          entry.kvCacheBytes = 0;
          entry.state = 'loaded';
          entry.restore = false;
          entry.crashedLoads = 0;
        },
        (error: unknown) => {
          entry.loaded = undefined;
          if (entry.state === 'loading') entry.state = 'unloaded';
          const mapped = mapWorkerError(error, entry.id, entry.location.path);
          const code = FusionError.isInstance(mapped) ? mapped.code : undefined;
          if (code === NATIVE_LIBRARY_MISSING) this.#nativeFailure = mapped.message;
          if (entry.restore && (code !== 'model_crashed' || entry.state === 'failed')) {
            entry.restore = false;
            this.#stateChanged();
          }
          throw mapped;
        },
      )
      .finally(() => {
        if (entry.loading === task) entry.loading = undefined;
      });
    entry.loading = task;
    return task;
  }

  async unload(model: string): Promise<void> {
    const entry = this.#catalog.get(model);
    if (!entry) return;
    await entry.loading?.catch(() => {});
    // A model waiting to be restored is not restored any more.
    entry.restore = false;
    if (entry.state === 'loaded') {
      entry.state = 'unloaded';
      entry.loaded = undefined;
      entry.kvCacheBytes = 0;
      const state = this.#supervisor.state;
      // Also while restarting: the new worker may hold it again already.
      if (state !== 'idle' && state !== 'closed') {
        await this.#supervisor.call({ type: 'unload', model: entry.id }).catch(() => {});
      }
    }
    this.#recycleIfEmpty();
  }

  /**
   * Native memory a process once held is not given back when a model is unloaded: with no model
   * left, the worker is stopped, and the next load starts a fresh one.
   */
  #recycleIfEmpty(): void {
    if (this.#options.recycleIdleWorker === false) return;
    for (const entry of this.#catalog.entries.values()) {
      if (entry.state === 'loaded' || entry.state === 'loading' || entry.restore) return;
      if (entry.queue.running > 0 || entry.queue.waiting > 0) return;
    }
    this.#supervisor.recycle();
  }

  async doChat(request: ChatRequest, options: CallOptions): Promise<ChatResult> {
    return collectChatResult(this.doStream(request, options));
  }

  async *doStream(request: ChatRequest, options: CallOptions): AsyncGenerator<ChatChunk> {
    const entry = this.#servable(request.model);
    if (entry.manifest!.config.kind !== 'causal') {
      throw new UnsupportedError(`Model '${request.model}' is an embedding model; it cannot chat.`, {
        param: 'model',
      });
    }
    checkChatRequest(request);
    const release = await entry.queue.acquire(options.signal);
    try {
      await this.#ensureLoaded(entry, options.signal);
      // Ends only once the worker has finished (or stopped) this generation: the model's turn lasts as long.
      yield* streamChat({
        supervisor: this.#supervisor,
        model: entry.id,
        info: entry.loaded!,
        request,
        signal: options.signal,
        onResult: (result) => {
          entry.kvCacheBytes = result.kvCacheBytes;
        },
      });
    } finally {
      release();
    }
  }

  async doEmbed(request: EmbedRequest, options: CallOptions): Promise<EmbedResult> {
    const entry = this.#servable(request.model);
    if (entry.manifest!.config.kind !== 'encoder') {
      throw new UnsupportedError(`Model '${request.model}' is a chat model; it does not embed.`, {
        param: 'model',
      });
    }
    const input = Array.isArray(request.input) ? request.input : [request.input];
    if (input.length === 0)
      throw new InvalidRequestError('input must hold at least one text.', { param: 'input' });
    if (input.some((text) => typeof text !== 'string')) {
      throw new InvalidRequestError('MLX embedding models take texts, not token arrays.', { param: 'input' });
    }
    const hidden = entry.manifest!.config.hiddenSize;
    if (request.dimensions !== undefined && request.dimensions !== hidden) {
      throw new UnsupportedError(`Model '${request.model}' produces ${hidden} dimensions.`, {
        param: 'dimensions',
      });
    }
    const release = await entry.queue.acquire(options.signal);
    try {
      await this.#ensureLoaded(entry, options.signal);
      const value = await this.#supervisor
        .call<EmbedResultValue>({ type: 'embed', model: entry.id, input }, { signal: options.signal })
        .catch((error: unknown) => {
          throw mapWorkerError(error, entry.id, entry.location.path);
        });
      if (options.signal.aborted) throw abortReason(options.signal);
      return {
        object: 'list',
        model: request.model,
        data: value.embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding })),
        usage: { prompt_tokens: value.promptTokens, total_tokens: value.promptTokens },
      };
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    await this.#supervisor.close();
    for (const entry of this.#catalog.entries.values()) {
      if (entry.state === 'loaded') entry.state = 'unloaded';
      entry.loaded = undefined;
    }
  }

  #servable(model: string, allowFailed = false): CatalogEntry {
    const entry = this.#catalog.get(model);
    if (!entry) {
      throw new ModelNotFoundError(`The MLX provider '${this.id}' has no model '${model}'.`, {
        param: 'model',
      });
    }
    if (entry.error !== undefined) {
      throw new UnsupportedError(
        `Model '${model}' cannot be served: ${hideDirectory(entry.error, entry.location.path)}`,
        {
          code: 'unsupported_model_layout',
          param: 'model',
        },
      );
    }
    if (entry.state === 'failed' && !allowFailed) {
      throw new UnavailableError(
        `Model '${model}' crashed the MLX worker ${entry.crashedLoads} times while loading; it is disabled until it is loaded explicitly again.`,
        { isRetryable: false },
      );
    }
    return entry;
  }

  async #ensureLoaded(entry: CatalogEntry, signal: AbortSignal): Promise<void> {
    if (entry.state === 'loaded') return;
    if (entry.state === 'failed') this.#servable(entry.id);
    await this.load(entry.id, { signal });
  }

  #loadOptions(): LoadOptions {
    return {
      prefillChunkSize: this.#options.prefillChunkSize ?? 512,
      kvCacheStep: this.#options.kvCacheStep ?? 256,
    };
  }

  #onCrash(crash: WorkerCrash): void {
    for (const command of crash.inFlight) {
      if (command.type !== 'load') continue;
      const entry = this.#catalog.entries.get(command.model);
      if (!entry) continue;
      entry.crashedLoads++;
      if (entry.crashedLoads >= MAX_CRASHED_LOADS) entry.state = 'failed';
    }
    // The worker's models are gone with it: what was loaded is restored by the next worker.
    for (const entry of this.#catalog.entries.values()) {
      entry.kvCacheBytes = 0;
      if (entry.state !== 'loaded') continue;
      entry.state = 'unloaded';
      entry.loaded = undefined;
      entry.restore = true;
    }
  }

  /**
   * When a worker starts after a crash: loads again every model that was loaded, one after the
   * other. Requests for these models wait for their load (and fail with it); when the worker
   * crashes again meanwhile, the next worker restores what is left.
   */
  async #restore(call: (command: WorkerCommand) => Promise<unknown>): Promise<void> {
    for (const entry of this.#catalog.entries.values()) {
      if (!entry.restore || entry.state !== 'unloaded' || entry.loading) continue;
      try {
        await this.#startLoad(entry, call);
      } catch (error) {
        if (FusionError.isInstance(error) && error.code === 'model_crashed') return;
      }
    }
  }

  #stateChanged(): void {
    for (const listener of this.#stateListeners) listener();
  }
}

/**
 * Creates the MLX provider. Models are found under `modelsDir` and in the Hugging Face cache; the
 * registry loads them on first use (and unloads them to stay under its memory budget).
 *
 * @example
 * const mlx = createMlxProvider({ modelsDir: './models' });
 * const fusion = createFusion({ providers: [mlx], memoryBudgetBytes: 8e9 });
 */
export function createMlxProvider(options: MlxProviderOptions = {}): MlxProvider {
  return new MlxProviderImpl(options);
}
