import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { RouteTarget } from '../spec/router/v1/router-v1.js';
import type { FusionStrategyV1, StrategyContext } from '../spec/strategy/v1/fusion-strategy-v1.js';
import { CallGroup } from './call-group.js';
import { resultChunks, resultText } from './chat-chunks.js';
import { collectSamples, noAnswer, type Sample, sampleJobs } from './collect-samples.js';
import { DEFAULT_JUDGE_CRITERIA, judgeMessages } from './judge-prompt.js';
import { type Judgement, parseJudgement } from './parse-judgement.js';
import {
  choiceOption,
  integerOption,
  mergeOptions,
  numberOption,
  type PhaseTimeOptions,
  phaseDeadline,
  targetOption,
  textOption,
} from './strategy-options.js';
import { withFusedUsage } from './sum-usage.js';

/** Options of {@link bestOfNStrategy}. */
export interface BestOfNOptions extends PhaseTimeOptions {
  /** Number of candidates, spread over the routed targets in turn. @default 4 */
  candidates?: number;
  /** The judge model. @default the first routed target */
  judge?: string | RouteTarget;
  /** What "best" means, in the judge's prompt. @default 'correctness, completeness, helpfulness and clarity' */
  criteria?: string;
  /**
   * The answer when the judge fails or its verdict is unusable: the first successful candidate (in
   * target order) or the longest.
   * @default 'first'
   */
  fallback?: 'first' | 'longest';
  /** Sampling temperature of the candidates. @default the request's */
  temperature?: number;
  /** Token limit of the judge's answer. @default 512 */
  judgeMaxTokens?: number;
  /** @default 0.6 (the judge needs the rest) */
  timeShare?: number;
}

/**
 * Best-of-n: n candidates from the routed targets (cycled), then a judge model, asked with a
 * structured prompt, names the best by number as JSON `{"best": n, "reason": "..."}`. The verdict is
 * parsed robustly (JSON anywhere, "Candidate 2", a bare number); when the judge fails or its answer is
 * unusable, the first (or longest) successful candidate answers. The judgement goes to
 * `trace.decision`; a deadline that cuts candidates marks the trace partial.
 *
 * Streaming: computes the candidates and the verdict, then emits the chosen candidate as a stream.
 */
export function bestOfNStrategy(defaults: BestOfNOptions = {}): FusionStrategyV1<BestOfNOptions> {
  async function doChat(context: StrategyContext<BestOfNOptions>): Promise<ChatResult> {
    const options = mergeOptions(defaults, context.options);
    const count = integerOption(options.candidates, 'candidates', 4, 1, 16);
    const judge = targetOption(options.judge, 'judge') ?? context.targets[0]!;
    const temperature = numberOption(options.temperature, 'temperature', undefined, 0, 2);
    const judgeMaxTokens = integerOption(options.judgeMaxTokens, 'judgeMaxTokens', 512, 1, 32_768);
    const timeoutMs = numberOption(options.timeoutMs, 'timeoutMs', undefined, 0, 86_400_000);
    const timeShare = numberOption(options.timeShare, 'timeShare', 0.6, 0, 1);
    const criteria = textOption(options.criteria, 'criteria', DEFAULT_JUDGE_CRITERIA);
    const fallback = choiceOption(options.fallback, 'fallback', ['first', 'longest'] as const, 'first');
    const group = new CallGroup(context.callOptions.signal);
    try {
      const jobs = sampleJobs(context.request, context.targets, count, 'candidate', temperature);
      const until = phaseDeadline(context.callOptions, timeoutMs, timeShare);
      const outcome = await collectSamples(context, group, jobs, { until });
      if (outcome.cut) context.trace.partial = true;
      // Numbered in target order, like every tie-break of the strategies.
      const answered = outcome.samples
        .filter((sample) => sample.status === 'ok')
        .sort(
          (left, right) =>
            (left.index % context.targets.length) - (right.index % context.targets.length) ||
            left.index - right.index,
        );
      if (answered.length === 0) throw noAnswer(outcome.samples, outcome.cut);
      const decision: Record<string, unknown> = {
        strategy: 'best-of-n',
        candidates: answered.map((sample, number) => ({
          number: number + 1,
          sample: sample.index,
          target: sample.target.model,
        })),
        failed: outcome.samples.filter((sample) => sample.status === 'error').length,
        cut: outcome.samples.filter((sample) => sample.status === 'cut').length,
      };
      context.trace.decision = decision;
      let chosen: Sample | undefined;
      if (answered.length === 1) {
        decision.reason = 'only one candidate answered';
        chosen = answered[0];
      } else {
        const judgement = await askJudge(context, group, judge, answered, criteria, judgeMaxTokens, decision);
        chosen = judgement && answered[judgement.best - 1];
      }
      if (!chosen) {
        chosen = fallback === 'longest' ? longest(answered) : answered[0]!;
        decision.fallback = fallback;
      }
      decision.chosen = { sample: chosen.index, target: chosen.target.model };
      return withFusedUsage(context, chosen.result!);
    } finally {
      group.dispose();
    }
  }

  return {
    specificationVersion: 'v1',
    name: 'best-of-n',
    description:
      'n candidates, then a judge model names the best (JSON verdict, robust parse, fallback to the first). Streams the chosen answer after the verdict.',
    doChat,
    async *doStream(context): AsyncGenerator<ChatChunk, void, undefined> {
      yield* resultChunks(await doChat(context));
    },
  };
}

function longest(samples: readonly Sample[]): Sample {
  // The first of equally long ones: `>` keeps the earlier.
  return samples.reduce((best, sample) =>
    resultText(sample.result!).length > resultText(best.result!).length ? sample : best,
  );
}

/** Asks the judge; `undefined` when it failed or named no valid candidate (recorded in `decision`). */
async function askJudge(
  context: StrategyContext<BestOfNOptions>,
  group: CallGroup,
  judge: RouteTarget,
  answered: readonly Sample[],
  criteria: string,
  maxTokens: number,
  decision: Record<string, unknown>,
): Promise<Judgement | undefined> {
  const controller = group.open();
  try {
    const verdict = await context.call(
      judge,
      {
        model: judge.model,
        messages: judgeMessages(
          context.request,
          answered.map((sample) => resultText(sample.result!)),
          criteria,
        ),
        temperature: 0,
        max_tokens: maxTokens,
      },
      { signal: controller.signal, role: 'judge', recordOutput: true },
    );
    const text = resultText(verdict);
    const judgement = parseJudgement(text, answered.length);
    decision.judge = judgement
      ? { target: judge.model, ...judgement }
      : { target: judge.model, unusable: true, output: text.slice(0, 500) };
    return judgement;
  } catch (error) {
    if (group.requestAborted) throw group.requestAbortReason();
    decision.judge = { target: judge.model, error: (error as { code?: unknown })?.code ?? String(error) };
    return undefined;
  } finally {
    group.close(controller);
  }
}
