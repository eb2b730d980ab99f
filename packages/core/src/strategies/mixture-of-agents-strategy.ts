import { InvalidRequestError } from '../errors/invalid-request-error.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { RouteTarget } from '../spec/router/v1/router-v1.js';
import type { FusionStrategyV1, StrategyContext } from '../spec/strategy/v1/fusion-strategy-v1.js';
import { CallGroup } from './call-group.js';
import { resultText } from './chat-chunks.js';
import { collectSamples, noAnswer, sampleJobs } from './collect-samples.js';
import { AGGREGATE_AND_SYNTHESIZE_PROMPT, withReferences } from './moa-prompt.js';
import {
  integerOption,
  mergeOptions,
  numberOption,
  type PhaseTimeOptions,
  phaseDeadline,
  targetListOption,
  targetOption,
  textOption,
} from './strategy-options.js';
import { withFusedStreamUsage, withFusedUsage } from './sum-usage.js';

/** Options of {@link mixtureOfAgentsStrategy}. */
export interface MixtureOfAgentsOptions extends PhaseTimeOptions {
  /**
   * Proposer layers, first to last. Each layer after the first sees the previous layer's answers.
   * @default `rounds` layers of `proposers`
   * @example [['lab/qwen', 'lab/llama', 'lab/mistral'], ['lab/qwen']]
   */
  layers?: (string | RouteTarget)[][];
  /** Proposers of every layer when `layers` is not given. @default the routed targets */
  proposers?: (string | RouteTarget)[];
  /** Number of proposer layers when `layers` is not given. @default 1 */
  rounds?: number;
  /**
   * Calls per proposer per layer. With one proposer and several samples this is "self-MoA": one
   * strong model sampled several times, its answers aggregated.
   * @default 1
   */
  samples?: number;
  /** The model that writes the final answer from the last layer's. @default the first routed target */
  aggregator?: string | RouteTarget;
  /** Sampling temperature of the proposers. @default the request's */
  temperature?: number;
  /** System prompt that introduces the answers to the next layer and the aggregator. @default the paper's */
  prompt?: string;
  /** Per layer, of the time then left. @default 0.5 (the aggregator needs the rest) */
  timeShare?: number;
}

/** Proposer layers, checked, from the options. */
function layersOf(options: MixtureOfAgentsOptions, targets: readonly RouteTarget[]): RouteTarget[][] {
  if (options.layers !== undefined) {
    if (!Array.isArray(options.layers) || options.layers.length === 0 || options.layers.length > 8) {
      throw new InvalidRequestError("Strategy option 'layers' must be a list of 1 to 8 layers.", {
        param: 'options.layers',
      });
    }
    return options.layers.map((layer, index) => targetListOption(layer, `layers[${index}]`)!);
  }
  const proposers = targetListOption(options.proposers, 'proposers') ?? [...targets];
  const rounds = integerOption(options.rounds, 'rounds', 1, 1, 8);
  return Array.from({ length: rounds }, () => proposers);
}

/**
 * Mixture-of-agents: layers of proposers answer in parallel, each layer after the first seeing the
 * previous layer's answers through the paper's aggregate-and-synthesize prompt; then an aggregator
 * writes the final answer from the last layer's. Failed proposers are left out; a layer cut by its
 * share of the deadline goes on with what arrived (trace marked partial). The layers' outcomes go to
 * `trace.decision`.
 *
 * Streaming: the proposer layers run first, silently; then the aggregator's answer is streamed.
 */
export function mixtureOfAgentsStrategy(
  defaults: MixtureOfAgentsOptions = {},
): FusionStrategyV1<MixtureOfAgentsOptions> {
  /** Runs the proposer layers; returns the aggregator and its request. */
  async function propose(context: StrategyContext<MixtureOfAgentsOptions>, group: CallGroup) {
    const options = mergeOptions(defaults, context.options);
    const layers = layersOf(options, context.targets);
    const aggregator = targetOption(options.aggregator, 'aggregator') ?? context.targets[0]!;
    const samples = integerOption(options.samples, 'samples', 1, 1, 16);
    const temperature = numberOption(options.temperature, 'temperature', undefined, 0, 2);
    const timeoutMs = numberOption(options.timeoutMs, 'timeoutMs', undefined, 0, 86_400_000);
    const timeShare = numberOption(options.timeShare, 'timeShare', 0.5, 0, 1);
    const prompt = textOption(options.prompt, 'prompt', AGGREGATE_AND_SYNTHESIZE_PROMPT);
    const decision: { strategy: string; layers: Record<string, unknown>[]; aggregator: string } = {
      strategy: 'mixture-of-agents',
      layers: [],
      aggregator: aggregator.model,
    };
    context.trace.decision = decision;
    let answers: string[] = [];
    for (const layer of layers) {
      const request = answers.length > 0 ? withReferences(context.request, answers, prompt) : context.request;
      const jobs = sampleJobs(request, layer, layer.length * samples, 'proposer', temperature);
      const until = phaseDeadline(context.callOptions, timeoutMs, timeShare);
      const outcome = await collectSamples(context, group, jobs, { until });
      if (outcome.cut) context.trace.partial = true;
      const answered = outcome.samples.filter((sample) => sample.status === 'ok');
      decision.layers.push({
        proposers: layer.map((target) => target.model),
        answered: answered.length,
        failed: outcome.samples.filter((sample) => sample.status === 'error').length,
        cut: outcome.samples.filter((sample) => sample.status === 'cut').length,
      });
      // A later layer that produced nothing leaves the previous layer's answers to the aggregator.
      if (answered.length > 0) answers = answered.map((sample) => resultText(sample.result!));
      else if (answers.length === 0) throw noAnswer(outcome.samples, outcome.cut);
    }
    return { aggregator, request: withReferences(context.request, answers, prompt) };
  }

  return {
    specificationVersion: 'v1',
    name: 'mixture-of-agents',
    description:
      'Layers of proposers, each seeing the previous answers, then an aggregator synthesises the final answer. Streams the aggregator only.',
    async doChat(context): Promise<ChatResult> {
      const group = new CallGroup(context.callOptions.signal);
      try {
        const { aggregator, request } = await propose(context, group);
        const controller = group.open();
        const result = await context.call(aggregator, request, {
          signal: controller.signal,
          role: 'aggregator',
        });
        group.close(controller);
        return withFusedUsage(context, result);
      } finally {
        group.dispose();
      }
    },
    async *doStream(context): AsyncGenerator<ChatChunk, void, undefined> {
      const group = new CallGroup(context.callOptions.signal);
      try {
        const { aggregator, request } = await propose(context, group);
        const controller = group.open();
        const stream = context.stream(aggregator, request, { signal: controller.signal, role: 'aggregator' });
        yield* withFusedStreamUsage(context, stream);
        // Ended normally; an early stop leaves it to `dispose`, which aborts it.
        group.close(controller);
      } finally {
        group.dispose();
      }
    },
  };
}
