import type { FusionError } from '../errors/fusion-error.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import type { EventBus } from '../events/event-bus.js';
import type { RequestQueue } from '../queue/request-queue.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { RegisteredModel } from '../registry/registered-model.js';
import type { CallOptions } from '../spec/call-options.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult, Usage } from '../spec/chat/chat-result.js';
import type { EmbedRequest } from '../spec/embedding/embed-request.js';
import type { EmbedResult } from '../spec/embedding/embed-result.js';
import { abortReason } from '../util/abort.js';
import { AbortScope, raceScope } from '../util/abort-scope.js';
import { hasContent } from '../util/has-content.js';
import { callTimeout } from './call-timeout.js';
import { estimateResultUsage, StreamUsageCounter } from './estimate-usage.js';
import { StreamWatchdog } from './stream-watchdog.js';

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
class CallRun {
  readonly startedAt = performance.now();
  readonly base: { requestId: string; provider: string; model: string; stream: boolean };
  releaseSlot: (() => void) | undefined;
  /** The response deadline of a call on the request's own scope (see {@link callRun}). */
  responseTimer: ReturnType<typeof setTimeout> | undefined;
  releaseModel: (() => void) | undefined;

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

  /** Waits for a queue slot and the model, then reports the start. */
  async begin(): Promise<CallOptions> {
    const signal = this.scope.signal;
    // Both honour the signal themselves (a waiter leaves the line, a load is abandoned).
    try {
      this.releaseSlot = await this.deps.queue.acquire(this.model.id, signal);
    } catch (error) {
      // Our own waiting line refused the call: the target was never asked.
      if (typeof error === 'object' && error !== null) localRefusals.add(error);
      throw error;
    }
    this.releaseModel = await this.deps.registry.use(this.model, signal);
    this.deps.events.emit('provider:call:start', { ...this.base, attempt: this.options.attempt ?? 1 });
    return { signal, requestId: this.options.requestId, deadline: Date.now() + this.options.timeoutMs };
  }

  /** The error to surface: the abort reason when the call was aborted, else the error itself. */
  fail(error: unknown): FusionError {
    const fusionError = toFusionError(this.scope.isAborted ? abortReason(this.scope.signal) : error);
    this.deps.events.emit('provider:call:error', {
      ...this.base,
      durationMs: performance.now() - this.startedAt,
      error: fusionError,
    });
    return fusionError;
  }

  succeed(extra: { usage?: Usage; firstTokenMs?: number } = {}): void {
    if (!this.deps.events.has('provider:call:end')) return;
    this.deps.events.emit('provider:call:end', {
      ...this.base,
      durationMs: performance.now() - this.startedAt,
      ...(extra.firstTokenMs === undefined ? {} : { firstTokenMs: extra.firstTokenMs }),
      ...(extra.usage ? { usage: extra.usage } : {}),
    });
  }

  end(): void {
    if (this.responseTimer) clearTimeout(this.responseTimer);
    if (this.ownsScope) this.scope.dispose();
    this.releaseModel?.();
    this.releaseSlot?.();
  }
}

/** The call's scope: the request's when it may be shared, else a child with the total deadline. */
function callRun(
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
  const parent = options.scope?.signal ?? options.signal;
  // Under the request's scope the total deadline is already armed; a bare signal needs one here.
  const timeoutMs = options.scope ? undefined : options.timeoutMs;
  const scope =
    responseMs !== undefined && responseMs < (timeoutMs ?? Number.POSITIVE_INFINITY)
      ? new AbortScope(parent, responseMs, () => callTimeout('response', responseMs))
      : new AbortScope(parent, timeoutMs, () => callTimeout('total', options.timeoutMs));
  return new CallRun(deps, model, scope, true, options, stream);
}

function forModel<TRequest extends { model: string }>(request: TRequest, model: RegisteredModel): TRequest {
  return request.model === model.localId ? request : { ...request, model: model.localId };
}

/**
 * One non-streamed chat call of one model: waits for a queue slot, marks the model in use (loading
 * it if needed), applies the total deadline, reports events, and frees everything when done. A
 * provider that ignores its signal cannot hang it.
 */
export async function callChat(
  deps: CallDependencies,
  model: RegisteredModel,
  request: ChatRequest,
  options: ModelCallOptions,
): Promise<ChatResult> {
  const run = callRun(deps, model, options, false);
  try {
    const callOptions = await run.begin();
    const result = await raceScope(model.provider.doChat(forModel(request, model), callOptions), run.scope);
    // A provider that reports no usage still costs tokens: budgets, metrics and the client see an estimate.
    result.usage ??= estimateResultUsage(request, result);
    run.succeed({ usage: result.usage });
    return result;
  } catch (error) {
    throw run.fail(error);
  } finally {
    run.end();
  }
}

/**
 * One streamed chat call of one model, with the queue and model use of {@link callChat} plus the
 * first-token and idle timeouts. Stops the upstream stream when the consumer stops iterating, when
 * the signal aborts, or when a deadline passes; a provider that ignores its signal cannot hang it.
 * A stream that ends without usage gets a last chunk with an estimate (see {@link StreamUsageCounter}).
 */
export async function* callStream(
  deps: CallDependencies,
  model: RegisteredModel,
  request: ChatRequest,
  options: ModelCallOptions,
): AsyncGenerator<ChatChunk, void, undefined> {
  const run = callRun(deps, model, options, true);
  const watchdog = new StreamWatchdog(run.scope, options);
  let iterator: AsyncIterator<ChatChunk> | undefined;
  let firstTokenMs: number | undefined;
  let usage: Usage | undefined;
  let last: ChatChunk | undefined;
  const counter = new StreamUsageCounter();
  let completed = false;
  // One reaction on the scope for the whole stream, instead of one listener or race per chunk.
  let rejectPending: ((error: Error) => void) | undefined;
  run.scope.whenAborted().catch((error: Error) => rejectPending?.(error));
  try {
    const callOptions = await run.begin();
    watchdog.start();
    iterator = model.provider
      .doStream(forModel(request, model), {
        ...callOptions,
        firstTokenDeadline: Date.now() + options.firstTokenTimeoutMs,
      })
      [Symbol.asyncIterator]();
    const source = iterator;
    while (true) {
      // An abort while the consumer held the last chunk must stop the stream before the next one.
      if (run.scope.isAborted) throw abortReason(run.scope.signal);
      const next = await new Promise<IteratorResult<ChatChunk>>((resolve, reject) => {
        rejectPending = reject;
        source.next().then(resolve, reject);
      });
      rejectPending = undefined;
      if (next.done) break;
      const chunk = next.value;
      if (firstTokenMs === undefined && hasContent(chunk)) {
        firstTokenMs = performance.now() - run.startedAt;
        watchdog.firstToken();
      } else {
        watchdog.chunk();
      }
      if (chunk.usage) usage = chunk.usage;
      else counter.count(chunk);
      chunk.model = model.id;
      last = chunk;
      yield chunk;
    }
    if (usage === undefined && last !== undefined) {
      usage = counter.usage(request);
      yield { id: last.id, object: last.object, created: last.created, model: model.id, choices: [], usage };
    }
    completed = true;
    run.succeed({ ...(usage ? { usage } : {}), ...(firstTokenMs === undefined ? {} : { firstTokenMs }) });
  } catch (error) {
    throw run.fail(error);
  } finally {
    rejectPending = undefined;
    watchdog.stop();
    // Ending early (consumer stopped, abort, timeout) must release the upstream request.
    if (!completed) run.scope.abort(new DOMException('The stream was closed.', 'AbortError'));
    iterator?.return?.().catch(() => {});
    run.end();
  }
}

/** One embeddings call, with the queue, model use, deadline and events of {@link callChat}. */
export async function callEmbed(
  deps: CallDependencies,
  model: RegisteredModel,
  request: EmbedRequest,
  options: ModelCallOptions,
): Promise<EmbedResult> {
  const run = callRun(deps, model, options, false);
  try {
    const callOptions = await run.begin();
    // Providers always answer floats (`EmbedResult`); base64 is applied at the HTTP boundary.
    const { encoding_format: _encoding, ...floatRequest } = request;
    const result = await raceScope(
      model.provider.doEmbed!({ ...floatRequest, model: model.localId }, callOptions),
      run.scope,
    );
    run.succeed();
    return result;
  } catch (error) {
    throw run.fail(error);
  } finally {
    run.end();
  }
}

export { hasContent };
