import type { CallDependencies, ModelCallOptions } from '../calls/call-model.js';
import { callTimeout } from '../calls/call-timeout.js';
import { createTargetCallers } from '../calls/target-caller.js';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { QueueFullError } from '../errors/queue-full-error.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import { UnavailableError } from '../errors/unavailable-error.js';
import { Budget } from '../resilience/budget.js';
import type { TargetHealth } from '../resilience/target-health.js';
import { capabilityRouter } from '../routing/capability-router.js';
import { costRouter } from '../routing/cost-router.js';
import { explicitRouter } from '../routing/explicit-router.js';
import { latencyRouter } from '../routing/latency-router.js';
import { leastBusyRouter } from '../routing/least-busy-router.js';
import { weightedRandomRouter } from '../routing/weighted-random-router.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { PipelineDefinition } from '../spec/pipeline/pipeline-definition.js';
import type { RouterV1, RouteTarget, TargetState } from '../spec/router/v1/router-v1.js';
import type { FusionStrategyV1, StrategyContext } from '../spec/strategy/v1/fusion-strategy-v1.js';
import type { FusionTrace } from '../spec/strategy/v1/fusion-trace.js';
import { resultChunks } from '../strategies/chat-chunks.js';
import { sumUsage } from '../strategies/sum-usage.js';
import { AbortScope } from '../util/abort-scope.js';
import { createRequestId } from '../util/request-id.js';
import { pipelineTargets } from './pipeline-definition.js';
import type { TraceStore } from './trace-store.js';

/** What running pipelines needs from the orchestrator. */
export interface PipelineDependencies extends CallDependencies {
  health: TargetHealth;
  traces: TraceStore;
  strategies: ReadonlyMap<string, FusionStrategyV1>;
  routers: ReadonlyMap<string, RouterV1>;
}

/** Routers a pipeline may name without registering them. */
function namedRouter(name: string, targets: RouteTarget[]): RouterV1 | undefined {
  switch (name) {
    case 'explicit':
      return explicitRouter({ targets });
    case 'capability':
      return capabilityRouter();
    case 'least-busy':
      return leastBusyRouter();
    case 'latency':
      return latencyRouter();
    case 'cost':
      return costRouter();
    case 'weighted':
      return weightedRandomRouter({
        weights: Object.fromEntries(targets.map((target) => [target.model, target.weight ?? 1])),
      });
    default:
      return undefined;
  }
}

/** One request of a pipeline while it runs. */
interface PipelineRun {
  strategy: FusionStrategyV1;
  trace: FusionTrace;
  scope: AbortScope;
  budget: Budget;
  startedAt: number;
  done: boolean;
}

/** A pipeline, resolved once: its strategy, router and targets. */
export class Pipeline {
  readonly definition: PipelineDefinition;
  readonly targets: RouteTarget[];
  readonly strategy: FusionStrategyV1;
  readonly router: RouterV1;
  readonly #deps: PipelineDependencies;
  #running = 0;

  constructor(definition: PipelineDefinition, deps: PipelineDependencies) {
    if (!definition.name || definition.targets.length === 0) {
      throw new InvalidRequestError(`Pipeline '${definition.name}' needs a name and at least one target.`, {
        param: 'targets',
      });
    }
    this.definition = definition;
    this.targets = pipelineTargets(definition);
    this.#deps = deps;
    // Resolved at definition time: a typo fails there, not at the first request.
    this.strategy = this.#resolveStrategy();
    this.router = this.#resolveRouter();
  }

  get name(): string {
    return this.definition.name;
  }

  #resolveStrategy(): FusionStrategyV1 {
    const strategy = this.definition.strategy ?? 'single';
    if (typeof strategy !== 'string') return strategy;
    const found = this.#deps.strategies.get(strategy);
    if (!found) {
      throw new InvalidRequestError(
        `Unknown strategy '${strategy}'; known: ${[...this.#deps.strategies.keys()].join(', ')}.`,
        { param: 'strategy' },
      );
    }
    return found;
  }

  #resolveRouter(): RouterV1 {
    const router = this.definition.router ?? 'explicit';
    if (typeof router !== 'string') return router;
    const found = this.#deps.routers.get(router) ?? namedRouter(router, this.targets);
    if (!found) throw new InvalidRequestError(`Unknown router '${router}'.`, { param: 'router' });
    return found;
  }

  /** A complete answer, and the trace of how it was made. */
  async chat(
    request: ChatRequest,
    call: ModelCallOptions,
    onTrace?: (trace: FusionTrace) => void,
  ): Promise<ChatResult> {
    const run = await this.#begin(request, call, onTrace);
    try {
      const result = await run.strategy.doChat(run.context);
      return this.#finish(run, result);
    } catch (error) {
      this.#end(run, error);
      throw error;
    }
  }

  /** A streamed answer; usage is the sum of every call, sent on a last chunk. */
  async *stream(
    request: ChatRequest,
    call: ModelCallOptions,
    onTrace?: (trace: FusionTrace) => void,
  ): AsyncGenerator<ChatChunk, void, undefined> {
    const run = await this.#begin(request, call, onTrace);
    let template: ChatChunk | undefined;
    let ended = false;
    try {
      const source = run.strategy.doStream
        ? run.strategy.doStream(run.context)
        : (async function* () {
            yield* resultChunks(await run.strategy.doChat(run.context));
          })();
      for await (const chunk of source) {
        template ??= chunk;
        // Each call's own usage is replaced by the sum over all calls, at the end.
        if (chunk.usage !== undefined) delete chunk.usage;
        chunk.model = this.name;
        if (chunk.choices.length > 0) yield chunk;
      }
      ended = true;
      const trace = await this.#close(run);
      const last: ChatChunk = {
        id: template?.id ?? `chatcmpl-${trace.id}`,
        object: 'chat.completion.chunk',
        created: template?.created ?? Math.floor(Date.now() / 1000),
        model: this.name,
        choices: [],
        fusion: { trace_id: trace.id, partial: trace.partial === true },
      };
      if (trace.usage) last.usage = trace.usage;
      yield last;
    } catch (error) {
      ended = true;
      this.#end(run, error);
      throw error;
    } finally {
      if (!ended) this.#end(run, new DOMException('The stream was closed.', 'AbortError'));
    }
  }

  /** The registry's live view of the targets, for routers. */
  candidates(): TargetState[] {
    const { registry, queue, health } = this.#deps;
    const states: TargetState[] = [];
    for (const target of this.targets) {
      const model = registry.find(target.model);
      if (!model) continue;
      const load = queue.load(model.id);
      states.push({
        model: model.id,
        info: model.info,
        provider: model.provider.id,
        healthy: model.status !== 'unhealthy',
        circuit: health.routingCircuit(model.id),
        inFlight: load.running,
        queued: load.waiting,
        upstreamQueueDepth: registry.health(model.provider.id)?.queueDepth ?? 0,
        latency: health.latency.get(model.id),
      });
    }
    return states;
  }

  /** When a target of a pipeline that can serve none may serve again: the soonest cooldown's end. */
  #retryAfterMs(): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const target of this.targets) {
      const model = this.#deps.registry.find(target.model);
      const waitMs = model ? this.#deps.health.retryAfterMs(model.id) : 0;
      // A circuit open with time left says when; anything else (unhealthy, a probe out) is unknown.
      if (waitMs > 0 && waitMs < soonest) soonest = waitMs;
    }
    return Number.isFinite(soonest) ? Math.max(soonest, 1000) : 1000;
  }

  async #begin(
    request: ChatRequest,
    call: ModelCallOptions,
    onTrace?: (trace: FusionTrace) => void,
  ): Promise<PipelineRun & { context: StrategyContext }> {
    const { limits = {} } = this.definition;
    if (limits.maxConcurrent !== undefined && this.#running >= limits.maxConcurrent) {
      throw new QueueFullError(`Pipeline '${this.name}' is running ${this.#running} requests, its limit.`, {
        retryAfterMs: 1000,
      });
    }
    const strategy = this.strategy;
    const trace: FusionTrace = {
      id: createRequestId(),
      requestId: call.requestId,
      ...(call.apiKeyId === undefined ? {} : { apiKeyId: call.apiKeyId }),
      model: this.name,
      strategy: strategy.name,
      startedAt: Date.now(),
      calls: [],
    };
    onTrace?.(trace);
    const timeoutMs = Math.min(limits.timeoutMs ?? call.timeoutMs, call.timeoutMs);
    const scope = new AbortScope(call.scope ?? call.signal, timeoutMs, () => callTimeout('total', timeoutMs));
    const deadline = trace.startedAt + timeoutMs;
    this.#running++;
    const run: PipelineRun = {
      strategy,
      trace,
      scope,
      budget: new Budget(limits),
      startedAt: performance.now(),
      done: false,
    };
    try {
      const router = this.router;
      const targets = await router.doRoute({
        request,
        candidates: this.candidates(),
        requestId: call.requestId,
        signal: scope.signal,
      });
      if (targets.length === 0) {
        throw new UnavailableError(
          `No target of pipeline '${this.name}' can serve now (unhealthy or circuit open).`,
          { code: 'no_route', retryAfterMs: this.#retryAfterMs() },
        );
      }
      this.#deps.events.emit('route:choose', {
        requestId: call.requestId,
        pipeline: this.name,
        router: router.name,
        targets: targets.map((target) => target.model),
      });
      const callers = createTargetCallers({
        deps: this.#deps,
        health: this.#deps.health,
        call: { ...call, scope: undefined, signal: scope.signal, timeoutMs },
        trace,
        budget: run.budget,
      });
      const context: StrategyContext = {
        request,
        targets,
        ...callers,
        options: this.definition.options ?? {},
        callOptions: {
          signal: scope.signal,
          requestId: call.requestId,
          deadline,
          ...(call.apiKeyId === undefined ? {} : { apiKeyId: call.apiKeyId }),
        },
        trace,
        record: (entry) => trace.calls.push(entry),
        emit: (event) => {
          const requestId = call.requestId;
          if (event.type === 'hedge') {
            this.#deps.events.emit('hedge:fire', { requestId, target: event.target, afterMs: event.afterMs });
          } else if (event.type === 'custom') {
            this.#deps.events.emit('strategy:event', {
              requestId,
              strategy: strategy.name,
              name: event.name,
              ...(event.data === undefined ? {} : { data: event.data }),
            });
          } else {
            this.#deps.events.emit('vote:tally', {
              requestId,
              tally: event.tally,
              ...(event.winner === undefined ? {} : { winner: event.winner }),
            });
          }
        },
      };
      return { ...run, context };
    } catch (error) {
      this.#end(run, error);
      throw error;
    }
  }

  async #finish(run: PipelineRun, result: ChatResult): Promise<ChatResult> {
    const trace = await this.#close(run);
    const fused: ChatResult = {
      ...result,
      model: this.name,
      fusion: { trace_id: trace.id, partial: trace.partial === true },
    };
    if (trace.usage) fused.usage = trace.usage;
    return fused;
  }

  /** Completes the trace, stores it and reports the end. */
  async #close(run: PipelineRun): Promise<FusionTrace> {
    const { trace } = run;
    trace.usage = sumUsage(trace.calls);
    if (run.budget.exceeded) trace.partial = true;
    this.#end(run);
    // The answer is made: a trace store that fails must not turn it into an error.
    await this.#deps.traces.set(trace).catch(() => {});
    return trace;
  }

  #end(run: PipelineRun, error?: unknown): void {
    if (run.done) return;
    run.done = true;
    this.#running--;
    run.scope.dispose();
    const { trace } = run;
    trace.totalMs = Date.now() - trace.startedAt;
    if (error !== undefined) void this.#deps.traces.set(trace).catch(() => {});
    this.#deps.events.emit('pipeline:end', {
      requestId: trace.requestId,
      pipeline: this.name,
      strategy: trace.strategy,
      calls: trace.calls.length,
      partial: trace.partial === true,
      durationMs: performance.now() - run.startedAt,
      traceId: trace.id,
      ...(error === undefined ? {} : { error: toFusionError(error) }),
    });
  }
}
