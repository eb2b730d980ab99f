import { toFusionError } from '../errors/to-fusion-error.js';
import type { RegisteredModel } from '../registry/registered-model.js';
import { blamesTarget } from '../resilience/blames-target.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { enterCircuit } from '../resilience/enter-circuit.js';
import { nextRetryDelay } from '../resilience/retry-policy.js';
import { sleep } from '../resilience/sleep.js';
import type { TargetHealth } from '../resilience/target-health.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { EmbedRequest } from '../spec/embedding/embed-request.js';
import type { EmbedResult } from '../spec/embedding/embed-result.js';
import {
  type CallDependencies,
  callChat,
  callEmbed,
  callStream,
  hasContent,
  isLocalRefusal,
  type ModelCallOptions,
} from './call-model.js';

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
  const ended = options.signal.aborted;
  const aborted = error.code === 'aborted' || (ended && error.code !== 'timeout_response');
  // Our own full queue refused the call: the target was never asked, and the wait is already spent.
  const local = isLocalRefusal(caught);
  if (!local) {
    if (aborted) breaker.onIgnored();
    else if (blamesTarget(error)) breaker.onFailure();
    else breaker.onSuccess();
  }
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
 * A streamed chat call of a model called by name, under the default policy. Until its
 * first content token a failed attempt is retried; after it, a retry would repeat what the client
 * already has, so the error ends the stream. A consumer that stops early gives a half-open probe back.
 */
export async function* resilientStream(
  deps: ResilientCallDependencies,
  model: RegisteredModel,
  request: ChatRequest,
  options: ModelCallOptions,
): AsyncGenerator<ChatChunk, void, undefined> {
  for (let attempt = 1; ; attempt++) {
    const breaker = enterCircuit(deps.health, model.id);
    const startedAt = performance.now();
    let firstTokenMs: number | undefined;
    let settled = false;
    try {
      for await (const chunk of callStream(deps, model, request, attemptOptions(options, attempt))) {
        if (firstTokenMs === undefined && hasContent(chunk)) firstTokenMs = performance.now() - startedAt;
        yield chunk;
      }
      settled = true;
      breaker.onSuccess();
      const totalMs = performance.now() - startedAt;
      deps.health.latency.record(
        model.id,
        firstTokenMs === undefined ? { totalMs } : { firstTokenMs, totalMs },
      );
      return;
    } catch (error) {
      settled = true;
      await afterFailure(deps, model, breaker, error, attempt, options, firstTokenMs === undefined);
    } finally {
      // The consumer stopped reading: the call says nothing about the target.
      if (!settled) breaker.onIgnored();
    }
  }
}
