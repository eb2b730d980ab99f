import type { FusionError } from '../errors/fusion-error.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import type { Budget, TokenReservation } from '../resilience/budget.js';
import { enterCircuit } from '../resilience/enter-circuit.js';
import { reportFailure } from '../resilience/report-failure.js';
import { nextRetryDelay } from '../resilience/retry-policy.js';
import { sleep } from '../resilience/sleep.js';
import type { TargetHealth } from '../resilience/target-health.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult, Usage } from '../spec/chat/chat-result.js';
import type { RouteTarget } from '../spec/router/v1/router-v1.js';
import type { TargetCall, TargetCallOptions, TargetStream } from '../spec/strategy/v1/fusion-strategy-v1.js';
import type { FusionTrace, TraceCall } from '../spec/strategy/v1/fusion-trace.js';
import { AbortScope } from '../util/abort-scope.js';
import {
  type CallDependencies,
  callChat,
  callStream,
  hasContent,
  isLocalRefusal,
  type ModelCallOptions,
} from './call-model.js';

/** What the call functions of one fused request work with. */
export interface TargetCallerContext {
  deps: CallDependencies;
  health: TargetHealth;
  /** The request's signal, id and timeouts. */
  call: ModelCallOptions;
  trace: FusionTrace;
  budget: Budget;
}

function outcomeOf(error: FusionError): TraceCall['outcome'] {
  if (error.code === 'aborted') return 'aborted';
  if (error.status === 504 || error.code.startsWith('timeout')) return 'timeout';
  if (error.code === 'circuit_open' || error.code === 'budget_exceeded') return 'skipped';
  return 'error';
}

/**
 * One attempt loop shared by calls and streams: budget, circuit breaker, retries with backoff that
 * honour `Retry-After`, per-call abort, trace entry and latency averages.
 */
class TargetAttempts {
  readonly entry: TraceCall;
  readonly request: ChatRequest;
  readonly modelId: string;
  readonly scope: AbortScope;
  attempt = 0;
  /** The request of the current attempt: its completion limit lowered to the budget's remainder. */
  attemptRequest: ChatRequest;
  #reservation: TokenReservation | undefined;
  #lastError: FusionError | undefined;

  constructor(
    readonly context: TargetCallerContext,
    target: RouteTarget,
    request: ChatRequest,
    readonly options: TargetCallOptions,
  ) {
    const model = context.deps.registry.resolve(target.model);
    this.modelId = model.id;
    this.request = { ...request, ...target.params, model: model.id };
    this.attemptRequest = this.request;
    this.entry = { target: model.id, startedAt: Date.now(), retries: 0, outcome: 'ok' };
    if (options.role) this.entry.role = options.role;
    context.trace.calls.push(this.entry);
    // The call's own scope: the request's signal, plus the strategy's signal for this call alone.
    this.scope = new AbortScope(context.call.scope ?? context.call.signal);
    if (options.signal) this.scope.follow(options.signal);
  }

  /** Checks budget and circuit, reserves the attempt's tokens, then reports the attempt. */
  begin(): ModelCallOptions {
    this.attempt++;
    const { budget, health, deps, call } = this.context;
    budget.takeCall();
    // Reserved before the call starts, so calls running in parallel cannot overrun the budget.
    const { request, reservation } = budget.reserve(this.request);
    this.attemptRequest = request;
    this.#reservation = reservation;
    try {
      enterCircuit(health, this.modelId);
    } catch (error) {
      this.settle(undefined, true);
      throw error;
    }
    deps.events.emit('call:attempt', {
      requestId: call.requestId,
      target: this.modelId,
      attempt: this.attempt,
      ...(this.options.role ? { role: this.options.role } : {}),
    });
    return { ...call, scope: undefined, signal: this.scope.signal, attempt: this.attempt };
  }

  succeed(usage: Usage | undefined, output: string | undefined, firstTokenMs?: number): void {
    const totalMs = Date.now() - this.entry.startedAt;
    this.context.health.breaker(this.modelId).onSuccess();
    this.context.health.latency.record(
      this.modelId,
      firstTokenMs === undefined ? { totalMs } : { firstTokenMs, totalMs },
    );
    this.settle(usage, false);
    this.entry.totalMs = totalMs;
    if (firstTokenMs !== undefined) this.entry.firstTokenMs = firstTokenMs;
    if (usage) this.entry.usage = usage;
    if (this.options.recordOutput && output !== undefined) this.entry.output = output;
    this.scope.dispose();
  }

  /** Ends the attempt's token reservation (once): its usage counts instead. */
  settle(usage: Usage | undefined, failed: boolean): void {
    const reservation = this.#reservation;
    this.#reservation = undefined;
    this.context.budget.settle(reservation, usage, failed);
  }

  /** Decides after a failure: resolves to retry, or throws the error to give up. */
  async failed(caught: unknown, retryable: boolean): Promise<void> {
    this.settle(undefined, true);
    const error = toFusionError(caught);
    // A retry the budget refused ends the call with what went wrong before, not with a 429 that
    // would invite the client to come back (the trace is still marked partial by the budget).
    if ((error.code === 'budget_exceeded' || error.code === 'circuit_open') && this.#lastError) {
      this.giveUp(this.#lastError);
    }
    this.#lastError = error;
    const breaker = this.context.health.breaker(this.modelId);
    // A call refused before it reached the target (open circuit, spent budget) says nothing about it;
    // both are checked before the probe is taken, so there is no probe to give back either.
    const local = isLocalRefusal(caught);
    if (local || (error.code !== 'circuit_open' && error.code !== 'budget_exceeded')) {
      reportFailure(breaker, error, { local, aborted: error.code === 'aborted' || this.scope.isAborted });
    }

    const delayMs =
      retryable && !this.scope.isAborted
        ? nextRetryDelay(this.context.health.retry, this.attempt, error)
        : undefined;
    if (delayMs !== undefined) {
      this.context.deps.events.emit('call:retry', {
        requestId: this.context.call.requestId,
        target: this.modelId,
        attempt: this.attempt,
        delayMs,
        error,
      });
      this.entry.retries++;
      try {
        // A disconnect during the backoff ends the call: no further attempt.
        await sleep(delayMs, this.scope.signal);
        return;
      } catch (abort) {
        return this.giveUp(toFusionError(abort));
      }
    }
    this.giveUp(error);
  }

  giveUp(error: FusionError): never {
    this.entry.outcome = outcomeOf(error);
    this.entry.error = error.code;
    this.entry.totalMs = Date.now() - this.entry.startedAt;
    this.scope.dispose();
    throw error;
  }
}

/** Text of a result, for traces and votes. */
function resultText(result: ChatResult): string {
  return result.choices[0]?.message.content ?? '';
}

/**
 * The `call` and `stream` functions strategies get: each call of a target runs through the queue,
 * retries, the circuit breaker and the timeouts, and is recorded in the trace.
 */
export function createTargetCallers(context: TargetCallerContext): {
  call: TargetCall;
  stream: TargetStream;
} {
  const call: TargetCall = async (target, request, options = {}) => {
    const attempts = new TargetAttempts(context, target, request, options);
    const model = context.deps.registry.resolve(attempts.modelId);
    while (true) {
      try {
        const callOptions = attempts.begin();
        const result = await callChat(context.deps, model, attempts.attemptRequest, callOptions);
        attempts.succeed(result.usage, resultText(result));
        return result;
      } catch (error) {
        await attempts.failed(error, true);
      }
    }
  };

  const stream: TargetStream = async function* (target, request, options = {}) {
    const attempts = new TargetAttempts(context, target, request, options);
    const model = context.deps.registry.resolve(attempts.modelId);
    let ended = false;
    try {
      while (true) {
        let committed = false;
        let text = '';
        let usage: Usage | undefined;
        let firstTokenMs: number | undefined;
        try {
          const callOptions = attempts.begin();
          for await (const chunk of callStream(context.deps, model, attempts.attemptRequest, callOptions)) {
            if (!committed && hasContent(chunk)) {
              committed = true;
              firstTokenMs = Date.now() - attempts.entry.startedAt;
            }
            if (chunk.usage) usage = chunk.usage;
            if (options.recordOutput) text += chunk.choices[0]?.delta.content ?? '';
            yield chunk as ChatChunk;
          }
          ended = true;
          attempts.succeed(usage, options.recordOutput ? text : undefined, firstTokenMs);
          return;
        } catch (error) {
          // Once content went out, a retry would repeat it: the strategy decides what happens next.
          await attempts.failed(error, !committed).catch((final: unknown) => {
            ended = true;
            throw final;
          });
        }
      }
    } finally {
      // The strategy stopped reading (a lost race, a budget): the call was cut short.
      if (!ended) {
        // A probe cut short says nothing about the target: give it back, or the circuit stays shut.
        context.health.breaker(attempts.modelId).onIgnored();
        // It wrote an unknown part of its completion: the budget counts the whole reservation.
        attempts.settle(undefined, false);
        attempts.entry.outcome = 'aborted';
        attempts.entry.totalMs = Date.now() - attempts.entry.startedAt;
        attempts.scope.dispose();
      }
    }
  };

  return { call, stream };
}
