import type { FusionError } from '../errors/fusion-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import type { EventBus } from '../events/event-bus.js';
import type { RequestQueue } from '../queue/request-queue.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { RegisteredModel } from '../registry/registered-model.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult, Usage } from '../spec/chat/chat-result.js';
import type { EmbedRequest } from '../spec/embedding/embed-request.js';
import type { EmbedResult } from '../spec/embedding/embed-result.js';
import { abortReason, linkedAbort } from '../util/abort.js';

/** What the call path needs from the orchestrator. */
export interface CallDependencies {
  registry: ModelRegistry;
  queue: RequestQueue;
  events: EventBus;
}

/** Limits and identity of one model call. */
export interface ModelCallOptions {
  signal: AbortSignal;
  requestId: string;
  /** Total time, ms. */
  timeoutMs: number;
  /** Time to the first content chunk of a stream, ms. */
  firstTokenTimeoutMs: number;
  /** Time between two chunks of a stream, ms. */
  idleTimeoutMs: number;
  attempt?: number;
}

/** The error a failed call surfaces: the abort reason when the call was aborted, else the error itself. */
function callError(error: unknown, signal: AbortSignal): FusionError {
  return toFusionError(signal.aborted ? abortReason(signal) : error);
}

/**
 * One non-streamed chat call of one model: waits for a queue slot, marks the model in use (loading
 * it if needed), applies the total deadline, reports events, and frees everything when done.
 */
export async function callChat(
  deps: CallDependencies,
  model: RegisteredModel,
  request: ChatRequest,
  options: ModelCallOptions,
): Promise<ChatResult> {
  const { events } = deps;
  const link = linkedAbort([options.signal], options.timeoutMs, () => timeout('total', options.timeoutMs));
  const startedAt = performance.now();
  const base = { requestId: options.requestId, provider: model.provider.id, model: model.id, stream: false };
  let releaseSlot: (() => void) | undefined;
  let releaseModel: (() => void) | undefined;
  try {
    releaseSlot = await deps.queue.acquire(model.id, link.signal);
    releaseModel = await deps.registry.use(model, link.signal);
    events.emit('provider:call:start', { ...base, attempt: options.attempt ?? 1 });
    const result = await raceAbort(
      model.provider.doChat(
        request.model === model.localId ? request : { ...request, model: model.localId },
        { signal: link.signal, requestId: options.requestId, deadline: Date.now() + options.timeoutMs },
      ),
      link.signal,
    );
    if (events.has('provider:call:end')) {
      const end = { ...base, durationMs: performance.now() - startedAt };
      events.emit('provider:call:end', result.usage ? { ...end, usage: result.usage } : end);
    }
    return result;
  } catch (error) {
    const fusionError = callError(error, link.signal);
    events.emit('provider:call:error', {
      ...base,
      durationMs: performance.now() - startedAt,
      error: fusionError,
    });
    throw fusionError;
  } finally {
    link.dispose();
    releaseModel?.();
    releaseSlot?.();
  }
}

/**
 * One streamed chat call of one model, with the queue and model use of {@link callChat} plus the
 * first-token and idle timeouts. Stops the upstream stream when the consumer stops iterating, when
 * the signal aborts, or when a deadline passes; a provider that ignores its signal cannot hang it.
 */
export async function* callStream(
  deps: CallDependencies,
  model: RegisteredModel,
  request: ChatRequest,
  options: ModelCallOptions,
): AsyncGenerator<ChatChunk, void, undefined> {
  const { events } = deps;
  const link = linkedAbort([options.signal], options.timeoutMs, () => timeout('total', options.timeoutMs));
  const startedAt = performance.now();
  const base = { requestId: options.requestId, provider: model.provider.id, model: model.id, stream: true };
  let releaseSlot: (() => void) | undefined;
  let releaseModel: (() => void) | undefined;
  let iterator: AsyncIterator<ChatChunk> | undefined;
  let firstTokenMs: number | undefined;
  let usage: Usage | undefined;
  const watchdog = new StreamWatchdog(link, options);
  let completed = false;
  try {
    releaseSlot = await deps.queue.acquire(model.id, link.signal);
    releaseModel = await deps.registry.use(model, link.signal);
    events.emit('provider:call:start', { ...base, attempt: options.attempt ?? 1 });
    watchdog.start();
    iterator = model.provider
      .doStream(request.model === model.localId ? request : { ...request, model: model.localId }, {
        signal: link.signal,
        requestId: options.requestId,
        deadline: Date.now() + options.timeoutMs,
        firstTokenDeadline: Date.now() + options.firstTokenTimeoutMs,
      })
      [Symbol.asyncIterator]();
    while (true) {
      const next = await raceAbort(iterator.next(), link.signal);
      if (next.done) break;
      const chunk = next.value;
      if (firstTokenMs === undefined && hasContent(chunk)) {
        firstTokenMs = performance.now() - startedAt;
        watchdog.firstToken();
      } else {
        watchdog.chunk();
      }
      if (chunk.usage) usage = chunk.usage;
      chunk.model = model.id;
      yield chunk;
    }
    completed = true;
    if (events.has('provider:call:end')) {
      const end = { ...base, durationMs: performance.now() - startedAt };
      events.emit('provider:call:end', {
        ...end,
        ...(firstTokenMs === undefined ? {} : { firstTokenMs }),
        ...(usage ? { usage } : {}),
      });
    }
  } catch (error) {
    const fusionError = callError(error, link.signal);
    events.emit('provider:call:error', {
      ...base,
      durationMs: performance.now() - startedAt,
      error: fusionError,
    });
    throw fusionError;
  } finally {
    watchdog.stop();
    // Ending early (consumer stopped, abort, timeout) must release the upstream request.
    if (!completed && !link.signal.aborted)
      link.abort(new DOMException('The stream was closed.', 'AbortError'));
    link.dispose();
    iterator?.return?.().catch(() => {});
    releaseModel?.();
    releaseSlot?.();
  }
}

/** One embeddings call, with the queue, model use, deadline and events of {@link callChat}. */
export async function callEmbed(
  deps: CallDependencies,
  model: RegisteredModel,
  request: EmbedRequest,
  options: ModelCallOptions,
): Promise<EmbedResult> {
  const doEmbed = model.provider.doEmbed;
  const link = linkedAbort([options.signal], options.timeoutMs, () => timeout('total', options.timeoutMs));
  const startedAt = performance.now();
  const base = { requestId: options.requestId, provider: model.provider.id, model: model.id, stream: false };
  let releaseSlot: (() => void) | undefined;
  let releaseModel: (() => void) | undefined;
  try {
    releaseSlot = await deps.queue.acquire(model.id, link.signal);
    releaseModel = await deps.registry.use(model, link.signal);
    deps.events.emit('provider:call:start', { ...base, attempt: options.attempt ?? 1 });
    // Providers always answer floats (`EmbedResult`); base64 is applied at the HTTP boundary.
    const { encoding_format: _encoding, ...floatRequest } = request;
    const result = await raceAbort(
      doEmbed!.call(
        model.provider,
        { ...floatRequest, model: model.localId },
        {
          signal: link.signal,
          requestId: options.requestId,
          deadline: Date.now() + options.timeoutMs,
        },
      ),
      link.signal,
    );
    deps.events.emit('provider:call:end', { ...base, durationMs: performance.now() - startedAt });
    return result;
  } catch (error) {
    const fusionError = callError(error, link.signal);
    deps.events.emit('provider:call:error', {
      ...base,
      durationMs: performance.now() - startedAt,
      error: fusionError,
    });
    throw fusionError;
  } finally {
    link.dispose();
    releaseModel?.();
    releaseSlot?.();
  }
}

/** Whether a chunk carries what commits a stream: content, reasoning, a tool call or the finish. */
export function hasContent(chunk: ChatChunk): boolean {
  const choice = chunk.choices[0];
  if (!choice) return false;
  const { delta } = choice;
  return Boolean(
    delta.content || delta.reasoning_content || delta.tool_calls?.length || choice.finish_reason,
  );
}

function timeout(kind: 'total' | 'first token' | 'idle', ms: number): TimeoutError {
  const what = kind === 'total' ? 'The call' : kind === 'first token' ? 'The first token' : 'The next chunk';
  return new TimeoutError(`${what} took longer than ${ms} ms.`, {
    code: `timeout_${kind.replace(' ', '_')}`,
  });
}

/** Rejects as soon as the signal aborts, whether or not the promise honours the signal. */
function raceAbort<TValue>(promise: Promise<TValue>, signal: AbortSignal): Promise<TValue> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortReason(signal));
  }
  return new Promise<TValue>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * First-token and idle timeouts with one timer: chunks only record a timestamp, and the timer
 * re-arms itself for the remaining time when it fires early. Cheaper than a timer per chunk.
 */
class StreamWatchdog {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #startAt = 0;
  #lastAt = 0;
  #gotToken = false;

  constructor(
    private readonly link: { abort(reason?: unknown): void },
    private readonly options: ModelCallOptions,
  ) {}

  start(): void {
    this.#startAt = performance.now();
    this.#lastAt = this.#startAt;
    this.#arm(this.options.firstTokenTimeoutMs);
  }

  firstToken(): void {
    this.#gotToken = true;
    this.#lastAt = performance.now();
    // The timer was armed for the first-token limit; from now on the (usually shorter) idle limit
    // applies, so re-arm once, or a stall would go unnoticed until the first-token limit passed.
    this.stop();
    this.#arm(this.options.idleTimeoutMs);
  }

  chunk(): void {
    this.#lastAt = performance.now();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#check(), ms);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #check(): void {
    const limit = this.#gotToken ? this.options.idleTimeoutMs : this.options.firstTokenTimeoutMs;
    // Before the first token, role-only chunks do not reset the clock.
    const elapsed = performance.now() - (this.#gotToken ? this.#lastAt : this.#startAt);
    if (elapsed >= limit) {
      this.link.abort(timeout(this.#gotToken ? 'idle' : 'first token', limit));
      return;
    }
    this.#arm(limit - elapsed);
  }
}
