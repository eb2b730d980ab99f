import { toFusionError } from '../errors/to-fusion-error.js';
import type { RegisteredModel } from '../registry/registered-model.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { enterCircuit } from '../resilience/enter-circuit.js';
import { reportFailure } from '../resilience/report-failure.js';
import { nextRetryDelay } from '../resilience/retry-policy.js';
import { sleep } from '../resilience/sleep.js';
import type { TargetHealth } from '../resilience/target-health.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { EmbedRequest } from '../spec/embedding/embed-request.js';
import type { EmbedResult } from '../spec/embedding/embed-result.js';
import { DONE } from '../util/lazy-stream.js';
import { onReady, takeReady } from '../util/ready-values.js';
import {
  type CallDependencies,
  callChat,
  callEmbed,
  callStream,
  hasContent,
  isLocalRefusal,
  type ModelCallOptions,
} from './call-model.js';
import { callResponses } from './call-responses.js';

/** What a model called by name needs: the call path, plus the breakers and latency of its target. */
export interface ResilientCallDependencies extends CallDependencies {
  health: TargetHealth;
}

function attemptOptions(options: ModelCallOptions, attempt: number): ModelCallOptions {
  return attempt === 1 ? options : { ...options, attempt };
}

/**
 * Counts a failed attempt against the circuit, then resolves after the backoff when another attempt
 * may help, or throws the error to give up.
 */
async function afterFailure(
  deps: ResilientCallDependencies,
  model: RegisteredModel,
  breaker: CircuitBreaker,
  caught: unknown,
  attempt: number,
  options: ModelCallOptions,
  retryable: boolean,
): Promise<void> {
  const error = toFusionError(caught);
  // The request is over (client gone, its deadline passed): no further attempt. A response
  // timeout ends it too (see `callRun`), but that one says the target was too slow.
  const ended = options.scope ? options.scope.isAborted : options.signal.aborted;
  const aborted = error.code === 'aborted' || (ended && error.code !== 'timeout_response');
  // Our own full queue refused the call: the target was never asked, and the wait is already spent.
  const local = isLocalRefusal(caught);
  reportFailure(breaker, error, { local, aborted });
  // A retry into the circuit this failure opened would be refused: the client gets what went wrong.
  const delayMs =
    retryable && !ended && !aborted && !local && breaker.state !== 'open'
      ? nextRetryDelay(deps.health.retry, attempt, error)
      : undefined;
  if (delayMs === undefined) throw error;
  deps.events.emit('call:retry', { requestId: options.requestId, target: model.id, attempt, delayMs, error });
  // A disconnect or the total deadline during the backoff ends the call with its own reason.
  await sleep(delayMs, options.signal);
}

/**
 * Calls `attempt` under the default policy of every call: the target's circuit breaker, retries with
 * backoff (honouring `Retry-After`), and, through `callChat`/`callEmbed`, the response timeout (which
 * ends the request: it is not retried). Successes feed the latency averages the latency router ranks by.
 */
async function withPolicy<TResult>(
  deps: ResilientCallDependencies,
  model: RegisteredModel,
  options: ModelCallOptions,
  call: (options: ModelCallOptions) => Promise<TResult>,
): Promise<TResult> {
  for (let attempt = 1; ; attempt++) {
    const breaker = enterCircuit(deps.health, model.id);
    const startedAt = performance.now();
    try {
      const result = await call(attemptOptions(options, attempt));
      breaker.onSuccess();
      deps.health.latency.record(model.id, { totalMs: performance.now() - startedAt });
      return result;
    } catch (error) {
      await afterFailure(deps, model, breaker, error, attempt, options, true);
    }
  }
}

/** A non-streamed chat call of a model called by name, under the default policy. */
export function resilientChat(
  deps: ResilientCallDependencies,
  model: RegisteredModel,
  request: ChatRequest,
  options: ModelCallOptions,
): Promise<ChatResult> {
  return withPolicy(deps, model, options, (attempt) => callChat(deps, model, request, attempt));
}

/** An embeddings call of a model called by name, under the default policy. */
export function resilientEmbed(
  deps: ResilientCallDependencies,
  model: RegisteredModel,
  request: EmbedRequest,
  options: ModelCallOptions,
): Promise<EmbedResult> {
  return withPolicy(deps, model, options, (attempt) => callEmbed(deps, model, request, attempt));
}

/**
 * A streamed chat call of a model called by name, under the default policy (see
 * {@link ResilientStream}).
 */
export function resilientStream(
  deps: ResilientCallDependencies,
  model: RegisteredModel,
  request: ChatRequest,
  options: ModelCallOptions,
): AsyncGenerator<ChatChunk, void, undefined> {
  return new ResilientStream(deps, model, request, options);
}

/**
 * The attempts of one streamed call. Until its first content token a failed attempt is retried;
 * after it, a retry would repeat what the client already has, so the error ends the stream. A
 * consumer that stops early gives a half-open probe back. Written out by hand: each chunk costs one
 * `then` here, where an `async function*` re-yielding an inner stream costs several promises.
 */
class ResilientStream implements AsyncGenerator<ChatChunk, void, undefined> {
  readonly #deps: ResilientCallDependencies;
  readonly #model: RegisteredModel;
  readonly #request: ChatRequest;
  readonly #options: ModelCallOptions;
  #attempt = 0;
  #inner: AsyncGenerator<ChatChunk, void, undefined> | undefined;
  #breaker: CircuitBreaker | undefined;
  #startedAt = 0;
  #firstTokenMs: number | undefined;
  /** The current attempt has ended, one way or another: its breaker was told. */
  #settled = true;
  #done = false;

  constructor(
    deps: ResilientCallDependencies,
    model: RegisteredModel,
    request: ChatRequest,
    options: ModelCallOptions,
  ) {
    this.#deps = deps;
    this.#model = model;
    this.#request = request;
    this.#options = options;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ChatChunk, void>> {
    if (this.#done) return Promise.resolve(DONE);
    if (this.#inner === undefined) {
      try {
        this.#begin();
      } catch (error) {
        this.#done = true;
        return Promise.reject(error);
      }
    }
    return this.#inner!.next().then(this.#onResult, this.#onError);
  }

  /** The current attempt's ready chunk (see {@link ReadyValues}). */
  takeReady(): ChatChunk | undefined {
    if (this.#done) return undefined;
    const chunk = takeReady(this.#inner);
    if (chunk !== undefined && this.#firstTokenMs === undefined && hasContent(chunk)) {
      this.#firstTokenMs = performance.now() - this.#startedAt;
    }
    return chunk;
  }

  /** Wakes `callback` when the current attempt has a chunk or settles (see {@link ReadyValues}). */
  onReady(callback: () => void): boolean {
    return !this.#done && onReady(this.#inner, callback);
  }

  async return(): Promise<IteratorResult<ChatChunk, void>> {
    if (this.#done) return DONE;
    this.#done = true;
    // The consumer stopped reading: the call says nothing about the target.
    if (!this.#settled) {
      this.#settled = true;
      this.#breaker?.onIgnored();
    }
    await this.#inner?.return();
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorResult<ChatChunk, void>> {
    await this.return();
    throw error;
  }

  /** Starts the next attempt: through the target's circuit (which may refuse it at once). */
  #begin(): void {
    this.#attempt++;
    this.#breaker = enterCircuit(this.#deps.health, this.#model.id);
    this.#settled = false;
    this.#startedAt = performance.now();
    this.#firstTokenMs = undefined;
    this.#inner = callStream(
      this.#deps,
      this.#model,
      this.#request,
      attemptOptions(this.#options, this.#attempt),
    );
  }

  readonly #onResult = (result: IteratorResult<ChatChunk, void>): IteratorResult<ChatChunk, void> => {
    if (this.#done) return DONE;
    if (!result.done) {
      if (this.#firstTokenMs === undefined && hasContent(result.value)) {
        this.#firstTokenMs = performance.now() - this.#startedAt;
      }
      return result;
    }
    this.#done = true;
    this.#settled = true;
    this.#breaker!.onSuccess();
    const totalMs = performance.now() - this.#startedAt;
    const firstTokenMs = this.#firstTokenMs;
    this.#deps.health.latency.record(
      this.#model.id,
      firstTokenMs === undefined ? { totalMs } : { firstTokenMs, totalMs },
    );
    return DONE;
  };

  readonly #onError = async (error: unknown): Promise<IteratorResult<ChatChunk, void>> => {
    if (this.#done) throw error;
    this.#settled = true;
    try {
      const retryable = this.#firstTokenMs === undefined;
      await afterFailure(
        this.#deps,
        this.#model,
        this.#breaker!,
        error,
        this.#attempt,
        this.#options,
        retryable,
      );
    } catch (failure) {
      this.#done = true;
      throw failure;
    }
    if (this.#done) return DONE;
    this.#inner = undefined;
    return this.next();
  };
}

/**
 * A Responses API request passed to an upstream that serves it (see {@link callResponses}), under the
 * default policy: retried only until the upstream answers (its body is the client's from then on).
 */
export function resilientResponses(
  deps: ResilientCallDependencies,
  model: RegisteredModel,
  body: Record<string, unknown>,
  options: ModelCallOptions,
  onEnd?: () => void,
): Promise<Response> {
  return withPolicy(deps, model, options, (attempt) => callResponses(deps, model, body, attempt, onEnd));
}
