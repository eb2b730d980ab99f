import { UnavailableError } from '../errors/unavailable-error.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { RouteTarget } from '../spec/router/v1/router-v1.js';
import type { FusionStrategyV1, StrategyContext } from '../spec/strategy/v1/fusion-strategy-v1.js';
import { CallGroup } from './call-group.js';
import { hasContent } from './chat-chunks.js';
import { type HedgedRaceOptions, type HedgedRaceResult, runHedgedRace } from './hedged-race.js';
import { LatencyWindow } from './latency-window.js';
import { integerOption, mergeOptions, numberOption } from './strategy-options.js';
import { withFusedStreamUsage, withFusedUsage } from './sum-usage.js';

/** Options of {@link raceStrategy}. */
export interface RaceOptions {
  /** Fixed delay before starting the next target, ms. @default the observed `quantile` latency of the target started before */
  hedgeDelayMs?: number;
  /** Quantile of a target's observed latency after which the next target starts. @default 0.95 */
  quantile?: number;
  /** Observations of a target needed before its quantile is used. @default 5 */
  minSamples?: number;
  /** Hedge delay for a target with fewer than `minSamples` observations, ms. @default 1000 */
  initialDelayMs?: number;
  /** Most targets to start. @default every routed target */
  maxTargets?: number;
}

/** Factory-only options of {@link raceStrategy}. */
export interface RaceStrategyOptions extends RaceOptions {
  /** Latencies kept per target for the quantile. @default 50 */
  windowSize?: number;
}

/**
 * Race / hedged requests: starts the first target, then the next one after `hedgeDelayMs` or the
 * p95 latency observed for the previous target (a rolling window per target, kept by this strategy
 * instance: total time of calls, time to first token of streams), or at once when a target fails. The first useful answer wins and the others are
 * aborted at once. Hedges go to `trace.decision`.
 *
 * Streaming: the first target to produce a content token wins; the others are aborted, and the
 * winner's stream (with any chunks it sent before its first token) passes through.
 */
export function raceStrategy(defaults: RaceStrategyOptions = {}): FusionStrategyV1<RaceOptions> {
  const windowSize = defaults.windowSize ?? 50;
  const totalWindows = new Map<string, LatencyWindow>();
  const firstTokenWindows = new Map<string, LatencyWindow>();
  const windowOf = (windows: Map<string, LatencyWindow>, model: string) => {
    let window = windows.get(model);
    if (!window) windows.set(model, (window = new LatencyWindow(windowSize)));
    return window;
  };
  /**
   * Records the winner's latency, and for each loser the time it had run when it lost: a lower bound
   * of its latency. Without it only fast answers would be seen and the quantile would drift down
   * until every request hedges.
   */
  const observe = (windows: Map<string, LatencyWindow>, race: HedgedRaceResult<unknown>) => {
    const now = performance.now();
    windowOf(windows, race.contender.target.model).add(now - race.contender.startedAt);
    for (const loser of race.losers) windowOf(windows, loser.target.model).add(now - loser.startedAt);
  };

  /** Runs one race of the routed targets with this request's options. */
  function race<TValue>(
    context: StrategyContext<RaceOptions>,
    group: CallGroup,
    windows: Map<string, LatencyWindow>,
    launch: HedgedRaceOptions<TValue>['launch'],
    discard?: (value: TValue) => void,
  ) {
    const options = mergeOptions<RaceOptions>(defaults, context.options);
    const fixedDelay = numberOption(options.hedgeDelayMs, 'hedgeDelayMs', undefined, 0, 3_600_000);
    const quantile = numberOption(options.quantile, 'quantile', 0.95, 0, 1);
    const minSamples = integerOption(options.minSamples, 'minSamples', 5, 1, 10_000);
    const initialDelay = numberOption(options.initialDelayMs, 'initialDelayMs', 1000, 0, 3_600_000);
    const maxTargets = integerOption(options.maxTargets, 'maxTargets', context.targets.length, 1, 64);
    const hedges: Record<string, unknown>[] = [];
    const decision: Record<string, unknown> = { strategy: 'race', hedges };
    context.trace.decision = decision;
    const delayAfter = (target: RouteTarget) => {
      if (fixedDelay !== undefined) return fixedDelay;
      const window = windows.get(target.model);
      return window && window.size >= minSamples ? window.quantile(quantile)! : initialDelay;
    };
    const targets = context.targets.slice(0, maxTargets);
    return runHedgedRace({
      targets,
      group,
      delayAfter,
      launch,
      hedges,
      onHedge: (target, afterMs) => context.emit?.({ type: 'hedge', target, afterMs }),
      ...(discard ? { discard } : {}),
    }).then((won) => {
      decision.winner = won.contender.target.model;
      return won;
    });
  }

  return {
    specificationVersion: 'v1',
    name: 'race',
    description:
      'Hedged requests: starts the next target after a delay or the observed p95, first answer wins, losers aborted. Streams the first target to produce a token.',
    async doChat(context): Promise<ChatResult> {
      const group = new CallGroup(context.callOptions.signal);
      try {
        const won = await race(context, group, totalWindows, (contender, role) =>
          context.call(contender.target, context.request, { signal: contender.controller.signal, role }),
        );
        group.close(won.contender.controller);
        observe(totalWindows, won);
        return withFusedUsage(context, won.value);
      } finally {
        group.dispose();
      }
    },
    doStream: (context) => withFusedStreamUsage(context, raceStream(context)),
  };

  async function* raceStream(
    context: StrategyContext<RaceOptions>,
  ): AsyncGenerator<ChatChunk, void, undefined> {
    const group = new CallGroup(context.callOptions.signal);
    let winner: AsyncIterator<ChatChunk> | undefined;
    let winnerController: AbortController | undefined;
    try {
      const won = await race(
        context,
        group,
        firstTokenWindows,
        async (contender, role) => {
          const iterator = context
            .stream(contender.target, context.request, { signal: contender.controller.signal, role })
            [Symbol.asyncIterator]();
          const held: ChatChunk[] = [];
          try {
            while (true) {
              const next = await iterator.next();
              if (next.done)
                throw new UnavailableError(
                  `Target '${contender.target.model}' ended its stream without an answer.`,
                );
              held.push(next.value);
              if (hasContent(next.value)) return { iterator, held };
            }
          } catch (error) {
            iterator.return?.().catch(() => {});
            throw error;
          }
        },
        (late) => {
          // Reached its first token just after the winner: close it, or its call never ends.
          late.iterator.return?.().catch(() => {});
        },
      );
      winner = won.value.iterator;
      winnerController = won.contender.controller;
      observe(firstTokenWindows, won);
      yield* won.value.held;
      while (true) {
        const next = await winner.next();
        if (next.done) break;
        yield next.value;
      }
      winner = undefined;
      group.close(winnerController);
    } finally {
      group.dispose();
      // A consumer that stopped early must release the winner's upstream stream too.
      winner?.return?.(undefined).catch(() => {});
    }
  }
}
