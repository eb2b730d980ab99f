import { type ApiKeyOptions, ApiKeys } from '../auth/api-keys.js';
import { callChat, callEmbed, callForward, callStream, type ModelCallOptions } from '../calls/call-model.js';
import { callResponses } from '../calls/call-responses.js';
import { callTimeout } from '../calls/call-timeout.js';
import { checkChatCapabilities, checkEmbedCapabilities } from '../calls/check-capabilities.js';
import {
  type ResilientCallDependencies,
  resilientChat,
  resilientEmbed,
  resilientResponses,
  resilientStream,
} from '../calls/resilient-model-call.js';
import { FusionError } from '../errors/fusion-error.js';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { UnavailableError } from '../errors/unavailable-error.js';
import { UnsupportedError } from '../errors/unsupported-error.js';
import { EventBus } from '../events/event-bus.js';
import { createHttpHandler, pathOf } from '../http/create-http-handler.js';
import { RouteTable } from '../http/route-table.js';
import { pipelineListEntry } from '../pipelines/pipeline-list-entry.js';
import { Pipeline, type PipelineDependencies } from '../pipelines/pipeline-runner.js';
import { TraceStore } from '../pipelines/trace-store.js';
import { HookRunner } from '../plugins/hook-runner.js';
import { type QueueStats, RequestQueue } from '../queue/request-queue.js';
import { ModelRegistry } from '../registry/model-registry.js';
import type { ModelListEntry } from '../registry/registered-model.js';
import { TargetHealth } from '../resilience/target-health.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { EmbedRequest } from '../spec/embedding/embed-request.js';
import type { EmbedResult } from '../spec/embedding/embed-result.js';
import type { PipelineDefinition } from '../spec/pipeline/pipeline-definition.js';
import type {
  HealthCheck,
  HookContext,
  HookOptions,
  PluginHooks,
  PluginV1,
  RegisterProviderOptions,
  RouteHandler,
  RouteOptions,
} from '../spec/plugin/v1/plugin-v1.js';
import type { ForwardRequest } from '../spec/provider/v1/forward-request.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';
import type { RetrieverV1 } from '../spec/retriever/v1/retriever-v1.js';
import type { RouterV1 } from '../spec/router/v1/router-v1.js';
import type { FusionStrategyV1 } from '../spec/strategy/v1/fusion-strategy-v1.js';
import type { ToolV1 } from '../spec/tool/v1/tool-v1.js';
import { builtinStrategies } from '../strategies/builtin-strategies.js';
import { runToolLoop } from '../tools/run-tool-loop.js';
import { streamToolLoop } from '../tools/stream-tool-loop.js';
import { wantsToolLoop } from '../tools/tool-loop-request.js';
import { ABORT_SCOPE, AbortScope, lazySignal, withScopeSignal } from '../util/abort-scope.js';
import { InFlightList } from '../util/in-flight-list.js';
import { LazyStream } from '../util/lazy-stream.js';
import { createRequestId } from '../util/request-id.js';
import { parseChatRequest } from '../validation/chat-request-schema.js';
import { parseEmbedRequest } from '../validation/embed-request-schema.js';
import type { CloseOptions, FusionOptions, RequestOptions } from './fusion-options.js';
import { HealthMonitor } from './health-monitor.js';
import { buildHealthReport, type HealthReport } from './health-report.js';
import { createPluginApi } from './plugin-api.js';

const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The orchestrator: models of several providers, plugins, hooks and the HTTP API behind one object.
 * Create it with {@link createFusion}.
 */
export class Fusion {
  /** The typed event bus; it only observes. */
  readonly events = new EventBus();
  readonly registry: ModelRegistry;
  readonly queue: RequestQueue;
  /** Largest request body `handle` accepts, in bytes. */
  readonly maxBodyBytes: number;
  /** Resolves when the providers and plugins given at creation are set up. */
  readonly ready: Promise<void>;
  /** Answers a Fetch `Request` with the OpenAI-compatible API; adapters mount this. */
  readonly handle: (request: Request) => Promise<Response>;

  readonly routers = new Map<string, RouterV1>();
  readonly retrievers = new Map<string, RetrieverV1>();
  readonly strategies = new Map<string, FusionStrategyV1>();
  readonly tools = new Map<string, ToolV1>();
  /** Plugins' readiness checks, reported by `GET /health`. */
  readonly healthChecks = new Map<string, HealthCheck>();
  /** Pipelines served as models, by name. */
  readonly pipelines = new Map<string, Pipeline>();
  /** Circuit breakers and latency averages of every target. */
  readonly targetHealth: TargetHealth;
  /** Traces of fused answers, for `/api/fusion/traces/{id}`. */
  readonly traces: TraceStore;

  readonly #options: FusionOptions;
  /** What a model called by name is called with: the call path and the targets' health. */
  readonly #callDependencies: ResilientCallDependencies;
  readonly #hooks = new HookRunner();
  readonly #routes = new RouteTable();
  readonly #monitor: HealthMonitor;
  readonly #plugins: PluginV1[] = [];
  /** The scopes of running requests, aborted when `close` gives up waiting. */
  readonly #scopes = new InFlightList<AbortScope>();
  #inFlight = 0;
  /** Setup has succeeded: calls need not wait on `ready` (one tick less per request). */
  #ready = false;
  #onIdle: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: FusionOptions = {}) {
    this.#options = options;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.registry = new ModelRegistry({
      events: this.events,
      ...(options.memoryBudgetBytes === undefined ? {} : { memoryBudgetBytes: options.memoryBudgetBytes }),
    });
    this.queue = new RequestQueue(options.queue, {
      concurrencyOf: (model) => this.registry.find(model)?.info.concurrency,
    });
    this.targetHealth = new TargetHealth(this.events, options.resilience);
    this.traces = new TraceStore(options.traces);
    this.#callDependencies = {
      registry: this.registry,
      queue: this.queue,
      events: this.events,
      health: this.targetHealth,
      hooks: this.#hooks,
    };
    for (const strategy of Object.values(builtinStrategies())) {
      this.strategies.set(strategy.name, strategy as FusionStrategyV1);
    }
    this.#monitor = new HealthMonitor(this.registry, this.events, options.healthIntervalMs ?? 5000);
    for (const [alias, target] of Object.entries(options.aliases ?? {})) this.registry.alias(alias, target);
    this.handle = createHttpHandler(this, this.#routes, {
      basePath: options.basePath ?? '',
      apiKeys: options.apiKeys instanceof ApiKeys ? options.apiKeys : keysOf(options.apiKeys),
      security: options.security ?? {},
      ...(options.responses ? { responses: options.responses } : {}),
    });
    this.ready = this.#setup(options);
    // Errors of setup surface through `ready` and every call; never as an unhandled rejection.
    this.ready.then(
      () => {
        this.#ready = true;
      },
      () => {},
    );
  }

  /** Whether `close` has begun: health answers 503 and new requests are refused. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /** Calls and streams running now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** A complete chat answer from the requested model. */
  async chat(request: ChatRequest, options: RequestOptions = {}): Promise<ChatResult> {
    const call = this.#begin(options);
    try {
      if (!this.#ready) await this.ready;
      const hooks = this.#hooks;
      let normalized = parseChatRequest(request);
      if (hooks.has('chat:request'))
        normalized = await hooks.run('chat:request', normalized, hookContext(call));
      let result = wantsToolLoop(normalized)
        ? await runToolLoop(normalized, (step) => this.#answer(step, call, options.onTrace), {
            tools: this.tools,
            ...call,
          })
        : await this.#answer(normalized, call, options.onTrace);
      if (hooks.has('chat:result')) result = await hooks.run('chat:result', result, hookContext(call));
      return result;
    } finally {
      call.end();
    }
  }

  /** One chat step of a request: its pipeline, else its model under the call policy. */
  async #answer(
    step: ChatRequest,
    call: TrackedCall,
    onTrace: RequestOptions['onTrace'],
  ): Promise<ChatResult> {
    const pipeline = this.#pipeline(step.model);
    if (pipeline) return pipeline.chat(step, call, onTrace);
    const model = this.registry.resolve(step.model);
    checkChatCapabilities(model, step);
    const answered = this.targetHealth.modelCalls
      ? await resilientChat(this.#callDependencies, model, step, call)
      : await callChat(this, model, step, call);
    answered.model = model.id;
    return answered;
  }

  /**
   * A streamed chat answer. Nothing is called until the first `next()`; stopping the iteration
   * (`break`, `return()`) or aborting `options.signal` cancels the upstream call.
   */
  stream(request: ChatRequest, options: RequestOptions = {}): AsyncGenerator<ChatChunk, void, undefined> {
    let call: TrackedCall | undefined;
    const events = this.events;
    return new LazyStream<ChatChunk>({
      open: async () => {
        call = this.#begin(options);
        await this.ready;
        const context = hookContext(call);
        let normalized = parseChatRequest(request);
        if (this.#hooks.has('chat:request'))
          normalized = await this.#hooks.run('chat:request', normalized, context);
        const started = call;
        const answer = (step: ChatRequest): AsyncIterable<ChatChunk> => {
          const pipeline = this.#pipeline(step.model);
          if (pipeline) return pipeline.stream(step, started, options.onTrace);
          const model = this.registry.resolve(step.model);
          checkChatCapabilities(model, step);
          return this.targetHealth.modelCalls
            ? resilientStream(this.#callDependencies, model, step, started)
            : callStream(this, model, step, started);
        };
        const chunks = wantsToolLoop(normalized)
          ? streamToolLoop(normalized, answer, { tools: this.tools, ...started })
          : answer(normalized);
        return chunks[Symbol.asyncIterator]();
      },
      end: () => call?.end(),
      // Stopped early: the upstream stops at once, also while a chunk is pending.
      cancel: () => call?.scope?.abort(new DOMException('The stream was stopped.', 'AbortError')),
      observe: (chunk) => {
        if (!events.has('stream:delta')) return;
        const content = chunk.choices[0]?.delta.content;
        if (content) events.emit('stream:delta', { requestId: call!.requestId, model: chunk.model, content });
      },
    });
  }

  /** Embeddings from the requested embedding model. */
  async embed(request: EmbedRequest, options: RequestOptions = {}): Promise<EmbedResult> {
    const call = this.#begin(options);
    try {
      await this.ready;
      const normalized = parseEmbedRequest(request);
      const model = this.registry.resolve(normalized.model);
      checkEmbedCapabilities(model);
      const result = this.targetHealth.modelCalls
        ? await resilientEmbed(this.#callDependencies, model, normalized, call)
        : await callEmbed(this, model, normalized, call);
      result.model = model.id;
      return result;
    } finally {
      call.end();
    }
  }

  /**
   * Passes a request of another upstream route (audio transcriptions, image generations and edits)
   * to the provider serving `request.model`, through the queue, deadlines and events of a chat call.
   * A pipeline, or a model whose provider cannot forward (`doForward`), gets a 400.
   */
  async forward(request: ForwardRequest, options: RequestOptions = {}): Promise<Response> {
    const call = this.#begin(options);
    try {
      await this.ready;
      if (this.#pipeline(request.model)) {
        throw new InvalidRequestError(
          `'${request.model}' is a pipeline, which answers chat only; ${request.path} needs a model served by an upstream.`,
          { param: 'model' },
        );
      }
      const model = this.registry.resolve(request.model);
      if (!model.provider.doForward) {
        throw new UnsupportedError(
          `The model '${model.id}' is served by provider '${model.provider.id}', which does not serve ${request.path}.`,
          { param: 'model' },
        );
      }
      return await callForward(this, model, request, call);
    } finally {
      call.end();
    }
  }

  /**
   * Passes a Responses API request (`POST /v1/responses`) to the provider serving `body.model` when
   * it serves that API itself (`doResponses`), through the queue, breaker, deadlines and events of a
   * chat call; the call (and its queue slot) lasts until the answer's body ends. The answer is the
   * upstream's, unchanged. A model whose provider cannot gets a 400.
   */
  async responses(
    body: Record<string, unknown> & { model: string },
    options: RequestOptions = {},
  ): Promise<Response> {
    const call = this.#begin(options);
    let handedOver = false;
    try {
      await this.ready;
      const model = this.registry.resolve(body.model);
      if (!model.provider.doResponses) {
        throw new UnsupportedError(
          `The model '${model.id}' is served by provider '${model.provider.id}', which does not serve /v1/responses itself.`,
          { param: 'model' },
        );
      }
      const response = this.targetHealth.modelCalls
        ? await resilientResponses(this.#callDependencies, model, body, call, call.end)
        : await callResponses(this, model, body, call, call.end);
      handedOver = response.body !== null;
      return response;
    } finally {
      if (!handedOver) call.end();
    }
  }

  /**
   * Every model served now, pipelines included, as `GET /v1/models` lists them; then each alias whose
   * target is served, as its target's entry under the alias's id, with `alias_of` naming the target.
   */
  async models(): Promise<ModelListEntry[]> {
    await this.ready;
    const models = this.registry.list().map((model) => this.registry.toListEntry(model));
    for (const pipeline of this.pipelines.values()) models.push(pipelineListEntry(pipeline));
    for (const alias of this.registry.aliases().keys()) {
      const target =
        models.find((entry) => entry.id === this.registry.aliasTarget(alias)) ??
        models.find((entry) => entry.id === this.registry.find(alias)?.id);
      if (target && !models.some((entry) => entry.id === alias))
        models.push({ ...target, id: alias, alias_of: target.id });
    }
    return models;
  }

  /** The pipeline a model name means: its own name, or an alias of it. */
  #pipeline(name: string): Pipeline | undefined {
    return this.pipelines.get(name) ?? this.pipelines.get(this.registry.aliasTarget(name) ?? '');
  }

  /**
   * Serves a pipeline as a model: `/v1/models` lists it (`owned_by: "fusion"`) and any client uses
   * it by name. Returns the function that removes it.
   */
  registerPipeline(definition: PipelineDefinition): () => void {
    if (this.pipelines.has(definition.name) || this.registry.find(definition.name)?.id === definition.name) {
      throw new TypeError(`A model or pipeline named '${definition.name}' is already served.`);
    }
    const pipeline = new Pipeline(definition, this.#pipelineDependencies());
    this.pipelines.set(definition.name, pipeline);
    return () => {
      if (this.pipelines.get(definition.name) === pipeline) this.pipelines.delete(definition.name);
    };
  }

  /** A pipeline that is not served, for one request (`POST /api/fusion/chat`). */
  inlinePipeline(definition: PipelineDefinition): Pipeline {
    return new Pipeline(definition, this.#pipelineDependencies());
  }

  /** Answers with a pipeline that need not be served (an inline spec), tracked like any request. */
  async runPipeline(
    pipeline: Pipeline,
    request: ChatRequest,
    options: RequestOptions = {},
  ): Promise<ChatResult> {
    const call = this.#begin(options);
    try {
      await this.ready;
      return await pipeline.chat(parseChatRequest(request), call, options.onTrace);
    } finally {
      call.end();
    }
  }

  #pipelineDependencies(): PipelineDependencies {
    return {
      registry: this.registry,
      queue: this.queue,
      events: this.events,
      health: this.targetHealth,
      hooks: this.#hooks,
      traces: this.traces,
      strategies: this.strategies,
      routers: this.routers,
    };
  }

  /** The health report `GET /health` serves. */
  health(): HealthReport {
    return buildHealthReport(this.registry, this.targetHealth, this.closing, this.healthChecks.values());
  }

  /** Queue counters, as `GET /v1/queue/stats` serves them. */
  queueStats(): QueueStats {
    return this.queue.stats();
  }

  /** Registers a provider; its models are discovered now and refreshed while it has none. */
  async registerProvider(provider: ProviderV1, options: RegisterProviderOptions = {}): Promise<() => void> {
    const unregister = await this.registry.register(provider, { ...options, discover: false });
    await this.#monitor.check(provider);
    return unregister;
  }

  /** Sets up a plugin. */
  async use(plugin: PluginV1): Promise<this> {
    if (plugin.specificationVersion !== 'v1') {
      throw new TypeError(
        `Plugin '${plugin.name}' implements specification '${String(plugin.specificationVersion)}'; expected 'v1'.`,
      );
    }
    await plugin.setup(createPluginApi(this));
    this.#plugins.push(plugin);
    return this;
  }

  /** Adds an HTTP route to `handle` (JSON bodies only, unless `options.accepts` names more types). */
  route(method: string, path: string, handler: RouteHandler, options?: RouteOptions): () => void {
    return this.#routes.add(method, path, handler, options);
  }

  /**
   * The JSON body of an error answered for `url` outside `handle` (an adapter's own 413 or 400), in
   * the error shape of the route at its path (`RouteOptions.formatError`), else OpenAI's.
   */
  errorBody(url: string, error: { status: number; code: string; message: string; type?: string }): unknown {
    const fusionError = new FusionError(error);
    const basePath = (this.#options.basePath ?? '').replace(/\/+$/, '');
    let path = pathOf(url);
    if (basePath && path.startsWith(`${basePath}/`)) path = path.slice(basePath.length);
    const format = this.#routes.formatErrorOf(path);
    return format ? format(fusionError) : fusionError.toJSON();
  }

  /** Adds a data-changing hook. */
  hook<TName extends keyof PluginHooks>(
    name: TName,
    hook: PluginHooks[TName],
    options?: HookOptions,
  ): () => void {
    return this.#hooks.add(name, hook, options);
  }

  /**
   * Stops the orchestrator: health turns 503 and new requests are refused at once; running requests
   * and streams may finish until `timeoutMs`, then they are aborted. Plugins are torn down in
   * reverse order and providers closed. Safe to call more than once.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? 10_000);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.events.emit('fusion:close', {});
    this.#monitor.stop();
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (this.#inFlight > 0) {
      const reason = new UnavailableError('The server is shutting down.');
      for (const scope of this.#scopes) scope.abort(reason);
      // Give aborted streams a moment to send their error event and end.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const plugin of [...this.#plugins].reverse()) await plugin.teardown?.();
    await Promise.allSettled(this.registry.providers().map((provider) => provider.close?.()));
    this.events.removeAll();
  }

  /** Starts a tracked call: request id, signals and deadlines, refusal while closing. */
  #begin(options: RequestOptions): TrackedCall {
    if (this.closing) throw new UnavailableError('The server is shutting down.', { retryAfterMs: 1000 });
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs ?? 600_000;
    // One scope per request carries the client's signal and the total deadline; shutdown reaches it
    // through the set below rather than one more listener per request on a shared signal.
    const scope = new AbortScope(options[ABORT_SCOPE] ?? options.signal, timeoutMs, () =>
      callTimeout('total', timeoutMs),
    );
    const listed = this.#scopes.add(scope);
    this.#inFlight++;
    let ended = false;
    const call = {
      scope,
      requestId: options.requestId ?? createRequestId(),
      // Always set (undefined without a key): one object shape, no spread, on every call.
      apiKeyId: options.apiKeyId,
      timeoutMs,
      firstTokenTimeoutMs: this.#options.firstTokenTimeoutMs ?? 120_000,
      idleTimeoutMs: this.#options.idleTimeoutMs ?? 60_000,
      responseTimeoutMs: this.#options.responseTimeoutMs ?? 300_000,
      end: () => {
        if (ended) return;
        ended = true;
        scope.dispose();
        this.#scopes.remove(listed);
        this.#inFlight--;
        if (this.#inFlight === 0) this.#onIdle?.();
      },
    };
    // Made when read: a call that only needs the scope never creates a signal.
    return withTrackedSignal(call);
  }

  async #setup(options: FusionOptions): Promise<void> {
    await Promise.all((options.providers ?? []).map((provider) => this.registerProvider(provider)));
    for (const plugin of options.plugins ?? []) await this.use(plugin);
    for (const pipeline of options.pipelines ?? []) this.registerPipeline(pipeline);
    this.#monitor.start();
  }
}

/** What hooks get: the request id, and the signal made only if a hook reads it. */
function hookContext(call: TrackedCall): HookContext {
  return withScopeSignal({ requestId: call.requestId, [ABORT_SCOPE]: call.scope! });
}

/**
 * The `signal` of a tracked call, made from its scope when read (see `lazySignal`). Not
 * `withScopeSignal`: strategies spread a call with another scope's signal, and an `ABORT_SCOPE` key
 * would follow the spread and win over that signal.
 */
const withTrackedSignal = lazySignal((call: { scope: AbortScope }) => call.scope.signal);

/** One request in flight: its call options, and `end` to stop tracking it. */
type TrackedCall = ModelCallOptions & { end(): void };

/**
 * Creates an orchestrator.
 *
 * @example
 * const fusion = createFusion({
 *   providers: [createOpenAICompatible({ id: 'lab', baseURL: 'http://127.0.0.1:8000/v1' })],
 * });
 * const answer = await fusion.chat({ model: 'lab/qwen3-4b', messages: [{ role: 'user', content: 'Hi' }] });
 */
export function createFusion(options: FusionOptions = {}): Fusion {
  return new Fusion(options);
}

/** Keys given as a list, hashed; none when the list is empty. */
function keysOf(keys: readonly (string | ApiKeyOptions)[] | undefined): ApiKeys | undefined {
  return keys && keys.length > 0 ? new ApiKeys(keys) : undefined;
}
