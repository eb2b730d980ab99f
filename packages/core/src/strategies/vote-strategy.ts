import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { FusionStrategyV1, StrategyContext } from '../spec/strategy/v1/fusion-strategy-v1.js';
import { CallGroup } from './call-group.js';
import { resultChunks, resultText } from './chat-chunks.js';
import { collectSamples, noAnswer, type Sample, sampleJobs } from './collect-samples.js';
import {
  booleanOption,
  functionOption,
  integerOption,
  mergeOptions,
  numberOption,
  type PhaseTimeOptions,
  phaseDeadline,
} from './strategy-options.js';
import { withFusedUsage } from './sum-usage.js';
import { normalizeAnswer, tallyVotes } from './tally-votes.js';

/** Options of {@link voteStrategy}. */
export interface VoteOptions extends PhaseTimeOptions {
  /** Number of samples, spread over the routed targets in turn. @default 5 */
  samples?: number;
  /**
   * Pulls the answer to vote on out of a sample's text (a final number, a letter choice); return
   * `undefined` to abstain. Code only, not from an inline spec.
   * @default the whole text, normalised (trim, lowercase, collapse whitespace, strip trailing punctuation)
   */
  extractor?: (text: string) => string | undefined;
  /** Sampling temperature of every sample. @default the request's */
  temperature?: number;
  /**
   * Stop as soon as no outstanding sample can change the winner, aborting the rest.
   * @default true
   */
  earlyStop?: boolean;
  /** @default 0.9 (the vote itself needs no time after the samples) */
  timeShare?: number;
}

/**
 * Self-consistency voting: n samples from one or several targets (cycled), majority over normalised
 * answers or an extractor's. Ties go to the answer whose earliest sample comes from the earliest
 * target, then the earliest sample. Failed samples are left out; when the deadline (or a budget) cuts
 * the vote short, the answer is what arrived and the trace is marked partial. The tally goes to
 * `trace.decision`. The answer is the full text of the winning answer's first sample.
 *
 * Streaming: computes the vote, then emits the winning answer as a stream.
 */
export function voteStrategy(defaults: VoteOptions = {}): FusionStrategyV1<VoteOptions> {
  async function doChat(context: StrategyContext<VoteOptions>): Promise<ChatResult> {
    const options = mergeOptions(defaults, context.options);
    const count = integerOption(options.samples, 'samples', 5, 1, 64);
    const temperature = numberOption(options.temperature, 'temperature', undefined, 0, 2);
    const timeoutMs = numberOption(options.timeoutMs, 'timeoutMs', undefined, 0, 86_400_000);
    const timeShare = numberOption(options.timeShare, 'timeShare', 0.9, 0, 1);
    const extract = functionOption(options.extractor, 'extractor', normalizeAnswer);
    const earlyStop = booleanOption(options.earlyStop, 'earlyStop', true);
    const key = (sample: Sample) => {
      try {
        const answer = extract(resultText(sample.result!));
        return answer === '' ? undefined : answer;
      } catch {
        // A throwing extractor abstains for that sample rather than failing the whole vote.
        return undefined;
      }
    };
    const targetCount = context.targets.length;
    const group = new CallGroup(context.callOptions.signal);
    try {
      const outcome = await collectSamples(
        context,
        group,
        sampleJobs(context.request, context.targets, count, 'sample', temperature),
        {
          until: phaseDeadline(context.callOptions, timeoutMs, timeShare),
          stop: !earlyStop ? undefined : (samples) => tallyVotes(samples, targetCount, key).decided,
        },
      );
      const tally = tallyVotes(outcome.samples, targetCount, key);
      const winner = tally.winner ?? tally.firstAnswered;
      context.trace.decision = {
        strategy: 'vote',
        samples: count,
        answered: outcome.samples.filter((sample) => sample.status === 'ok').length,
        failed: outcome.samples.filter((sample) => sample.status === 'error').length,
        cut: outcome.samples.filter((sample) => sample.status === 'cut').length,
        stoppedEarly: outcome.stoppedEarly,
        tally: tally.entries,
        winner: winner && { sample: winner.index, target: winner.target.model, answer: tally.winnerKey },
        ...(tally.winner ? {} : { noVotes: true }),
      };
      context.emit?.({
        type: 'tally',
        tally: Object.fromEntries(tally.entries.map((entry) => [entry.answer, entry.votes])),
        ...(tally.winnerKey === undefined ? {} : { winner: tally.winnerKey }),
      });
      if (!winner) throw noAnswer(outcome.samples, outcome.cut);
      if (outcome.cut) context.trace.partial = true;
      return withFusedUsage(context, winner.result!);
    } finally {
      group.dispose();
    }
  }

  return {
    specificationVersion: 'v1',
    name: 'vote',
    description:
      'Self-consistency: n samples over the targets, majority answer wins (ties: earliest target, then sample). Streams the winner after the vote.',
    doChat,
    async *doStream(context): AsyncGenerator<ChatChunk, void, undefined> {
      yield* resultChunks(await doChat(context));
    },
  };
}
