import type { FusionError } from '../errors/fusion-error.js';
import { QueueFullError } from '../errors/queue-full-error.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import type { EventBus } from '../events/event-bus.js';
import type { FusionEvents } from '../events/fusion-events.js';
import type { HookRunner } from '../plugins/hook-runner.js';
import type { RequestQueue } from '../queue/request-queue.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { RegisteredModel } from '../registry/registered-model.js';
import type { CallOptions } from '../spec/call-options.js';
import type { Usage } from '../spec/chat/chat-result.js';
import type { CallHookContext } from '../spec/plugin/v1/plugin-v1.js';
import { abortReasonOf } from '../util/abort.js';
import { ABORT_SCOPE, AbortScope, withScopeSignal } from '../util/abort-scope.js';
import { callTimeout } from './call-timeout.js';

/** Errors raised before a call reached its target (this orchestrator's queue was full). */
const localRefusals = new WeakSet<object>();

/** Whether an error came from this orchestrator's own queue, not from the target. */
export function isLocalRefusal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && localRefusals.has(error);
}

/** What the call path needs from the orchestrator. */
export interface CallDependencies {
  registry: ModelRegistry;
  queue: RequestQueue;
  events: EventBus;
  /** Hooks of plugins; the call path runs `call:headers`. */
  hooks?: HookRunner;
}

/** Limits and identity of one model call. */
export interface ModelCallOptions {
  signal: AbortSignal;
  /**
   * The request's own scope, when the call may share it (one call per request): it already carries
   * the total deadline, so the call adds no second controller, listener or timer.
   */
  scope?: AbortScope;
  requestId: string;
  /** The API key the call is made for, reported with `provider:call:end` (see `RequestOptions`). */
  apiKeyId?: string;
  /** Total time, ms. */
  timeoutMs: number;
  /** Time to the first content chunk of a stream, ms. */
  firstTokenTimeoutMs: number;
  /** Time between two chunks of a stream, ms. */
  idleTimeoutMs: number;
  /**
   * Time to a non-streamed answer, ms. On the request's own scope it ends the request; on a scope of
   * the call's own, only the call. @default no limit but `timeoutMs`
   */
  responseTimeoutMs?: number;
  attempt?: number;
}

/** What every call holds while it runs: its scope, its queue slot and its use of the model. */
export class CallRun {
  readonly startedAt = performance.now();
  readonly base: { requestId: string; provider: string; model: string; stream: boolean };
  releaseSlot: (() => void) | undefined;
  #ended = false;
  /** The response deadline of a call on the request's own scope (see {@link callRun}). */
  responseTimer: ReturnType<typeof setTimeout> | undefined;
  releaseModel: (() => void) | undefined;
  /** A call `beginNow` started while its `call:headers` hooks still run (see {@link CallRun.begin}). */
  #startedWaiting: { options: CallOptions; headers: Promise<Record<string, string>> } | undefined;

  constructor(
    readonly deps: CallDependencies,
    readonly model: RegisteredModel,
    readonly scope: AbortScope,
    readonly ownsScope: boolean,
    readonly options: ModelCallOptions,
    stream: boolean,
  ) {
    this.base = { requestId: options.requestId, provider: model.provider.id, model: model.id, stream };
  }

  /**
   * {@link CallRun.begin} without waiting, when nothing makes the call wait: a free queue slot, a
   * model that needs no loading, `call:headers` hooks that answer synchronously (tracing's does).
   * `undefined` otherwise (then `begin`, which also finishes a call whose hooks went asynchronous).
   */
  beginNow(): CallOptions | undefined {
    const scope = this.scope;
    if (scope.isAborted || this.#ended) return undefined;
    // The model first: one that must load is left to `begin` before any slot is taken.
    const releaseModel = this.deps.registry.useNow(this.model);
    if (releaseModel === undefined) return undefined;
    const releaseSlot = this.deps.queue.tryAcquire(this.model.id);
    if (releaseSlot === undefined) {
      releaseModel();
      return undefined;
    }
    this.releaseModel = releaseModel;
    this.releaseSlot = releaseSlot;
    const options = this.#started(scope);
    const hooks = this.deps.hooks;
    if (!hooks?.has('call:headers')) return options;
    const headers = hooks.runNow('call:headers', {}, this.#hookContext(scope));
    if (headers instanceof Promise) {
      this.#startedWaiting = { options, headers };
      return undefined;
    }
    if (Object.keys(headers).length > 0) options.headers = headers;
    return options;
  }

  /**
   * Waits for a queue slot and the model, then reports the start. A run ended while it waited (the
   * stream was returned, the request aborted) gives back what it got as soon as it gets it.
   */
  async begin(): Promise<CallOptions> {
    const waiting = this.#startedWaiting;
    if (waiting) {
      // Started by `beginNow`, whose hooks went asynchronous: only their headers are missing.
      this.#startedWaiting = undefined;
      const headers = await waiting.headers;
      if (Object.keys(headers).length > 0) waiting.options.headers = headers;
      return waiting.options;
    }
    const scope = this.scope;
    // Both honour the scope themselves (a waiter leaves the line, a load is abandoned).
    try {
      const events = this.deps.events;
      this.releaseSlot = await this.deps.queue.acquire(
        this.model.id,
        scope,
        events.has('queue:wait')
          ? (waitedMs, queued) =>
              events.emit('queue:wait', {
                requestId: this.base.requestId,
                model: this.model.id,
                queued,
                waitedMs,
              })
          : undefined,
        events.has('queue:reject')
          ? (reason) =>
              events.emit('queue:reject', { requestId: this.base.requestId, model: this.model.id, reason })
          : undefined,
      );
    } catch (error) {
      // Our own waiting line refused the call: the target was never asked.
      if (error instanceof QueueFullError) localRefusals.add(error);
      throw error;
    }
    if (this.#ended) {
      this.#release();
      throw abortReasonOf(scope.reason);
    }
    this.releaseModel = await this.deps.registry.use(this.model, scope);
    if (this.#ended) {
      this.#release();
      throw abortReasonOf(scope.reason);
    }
    const options = this.#started(scope);
    const hooks = this.deps.hooks;
    if (hooks?.has('call:headers')) {
      const headers = await hooks.run('call:headers', {}, this.#hookContext(scope));
      if (Object.keys(headers).length > 0) options.headers = headers;
    }
    return options;
  }

  /** What `call:headers` hooks see of the call. */
  #hookContext(scope: AbortScope): CallHookContext {
    const { requestId, provider, model } = this.base;
    // The signal is made only if a hook reads it (tracing's does not).
    return withScopeSignal({
      requestId,
      provider,
      model,
      attempt: this.options.attempt ?? 1,
      [ABORT_SCOPE]: scope,
    });
  }

  /** Reports the start; the options the provider gets. */
  #started(scope: AbortScope): CallOptions & { [ABORT_SCOPE]: AbortScope } {
    const attempt = this.options.attempt ?? 1;
    const events = this.deps.events;
    if (events.has('provider:call:start')) {
      const { requestId, provider, model, stream } = this.base;
      events.emit('provider:call:start', { requestId, provider, model, stream, attempt });
    }
    // The signal is made when a provider reads it; providers of this repository follow the scope.
    return withScopeSignal({
      requestId: this.options.requestId,
      deadline: Date.now() + this.options.timeoutMs,
      [ABORT_SCOPE]: scope,
    });
  }

  /** The error to surface: the abort reason when the call was aborted, else the error itself. */
  fail(error: unknown): FusionError {
    const fusionError = toFusionError(this.scope.isAborted ? abortReasonOf(this.scope.reason) : error);
    const events = this.deps.events;
    if (events.has('provider:call:error')) {
      const { requestId, provider, model, stream } = this.base;
      const durationMs = performance.now() - this.startedAt;
      events.emit('provider:call:error', {
        requestId,
        provider,
        model,
        stream,
        durationMs,
        error: fusionError,
      });
    }
    return fusionError;
  }

  succeed(extra: { usage?: Usage; firstTokenMs?: number } = {}): void {
    const events = this.deps.events;
    if (!events.has('provider:call:end')) return;
    // Fields set one by one, not spread from conditional objects: this runs on every observed call,
    // and spreads of ad-hoc objects take V8's slow generic copy.
    const { requestId, provider, model, stream } = this.base;
    const payload: FusionEvents['provider:call:end'] = {
      requestId,
      provider,
      model,
      stream,
      durationMs: performance.now() - this.startedAt,
    };
    if (extra.firstTokenMs !== undefined) payload.firstTokenMs = extra.firstTokenMs;
    if (extra.usage) payload.usage = extra.usage;
    if (this.options.apiKeyId !== undefined) payload.apiKeyId = this.options.apiKeyId;
    events.emit('provider:call:end', payload);
  }

  end(): void {
    this.#ended = true;
    if (this.responseTimer) clearTimeout(this.responseTimer);
    if (this.ownsScope) this.scope.dispose();
    this.#release();
  }

  /** Gives back the model and the queue slot, each once. */
  #release(): void {
    const releaseModel = this.releaseModel;
    const releaseSlot = this.releaseSlot;
    this.releaseModel = undefined;
    this.releaseSlot = undefined;
    releaseModel?.();
    releaseSlot?.();
  }
}

/** The call's scope: the request's when it may be shared, else a child with the total deadline. */
export function callRun(
  deps: CallDependencies,
  model: RegisteredModel,
  options: ModelCallOptions,
  stream: boolean,
): CallRun {
  const responseMs = stream ? undefined : options.responseTimeoutMs;
  // A stream needs a scope of its own: stopping it early must not abort the rest of the request.
  if (options.scope && !stream) {
    const run = new CallRun(deps, model, options.scope, false, options, stream);
    // One call per request: its response deadline may end the request, and a bare timer is far
    // cheaper than a scope of its own (a controller and a listener per call).
    if (responseMs !== undefined) {
      const scope = options.scope;
      run.responseTimer = setTimeout(() => scope.abort(callTimeout('response', responseMs)), responseMs);
      (run.responseTimer as { unref?: () => void }).unref?.();
    }
    return run;
  }
  const parent = options.scope ?? options.signal;
  // Under the request's scope the total deadline is already armed; a bare signal needs one here.
  const timeoutMs = options.scope ? undefined : options.timeoutMs;
  const scope =
    responseMs !== undefined && responseMs < (timeoutMs ?? Number.POSITIVE_INFINITY)
      ? new AbortScope(parent, responseMs, () => callTimeout('response', responseMs))
      : new AbortScope(parent, timeoutMs, () => callTimeout('total', options.timeoutMs));
  return new CallRun(deps, model, scope, true, options, stream);
}

export function forModel<TRequest extends { model: string }>(
  request: TRequest,
  model: RegisteredModel,
): TRequest {
  return request.model === model.localId ? request : { ...request, model: model.localId };
}
