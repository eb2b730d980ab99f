import { FusionError } from '../errors/fusion-error.js';
import { UnavailableError } from '../errors/unavailable-error.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { FusionStrategyV1, StrategyContext } from '../spec/strategy/v1/fusion-strategy-v1.js';
import { CallGroup } from './call-group.js';
import { chunkText, hasContent } from './chat-chunks.js';
import { CONTINUE_INSTRUCTION, continuationRequest, RestartFilter } from './continuation.js';
import { booleanOption, functionOption, mergeOptions, textOption } from './strategy-options.js';
import { withFusedStreamUsage, withFusedUsage } from './sum-usage.js';

/** Options of {@link fallbackStrategy}. */
export interface FallbackOptions {
  /**
   * After the first content token reached the client, a failure continues the answer on the next
   * target: it gets the partial answer as an assistant message and an instruction to continue, and
   * only its new text is streamed. When false, the stream ends by throwing the error (the HTTP
   * layer sends one error event). An answer that already streamed tool calls is never continued.
   * @default false
   */
  continueOnFailure?: boolean;
  /** The instruction after the partial answer. @default CONTINUE_INSTRUCTION */
  continueInstruction?: string;
  /**
   * Whether an error moves on to the next target. Code only, not from an inline spec.
   * @default every error but `invalid_request` (the client's request is at fault: every target would refuse it)
   */
  shouldFallback?: (error: unknown) => boolean;
}

const defaultShouldFallback = (error: unknown) =>
  !(FusionError.isInstance(error) && error.code === 'invalid_request');

function errorCode(error: unknown): string {
  return FusionError.isInstance(error) ? error.code : error instanceof Error ? error.name : 'error';
}

/**
 * Walks the routed targets until one answers. Streaming: before the first content token (content,
 * reasoning, a tool call or the finish) a failure switches to the next target and the client sees
 * only the clean answer of that one; after it, the answer either continues on the next target
 * (`continueOnFailure`) or the stream ends by throwing the error. Attempts go to `trace.decision`.
 */
export function fallbackStrategy(defaults: FallbackOptions = {}): FusionStrategyV1<FallbackOptions> {
  async function* streamAnswer(
    context: StrategyContext<FallbackOptions>,
  ): AsyncGenerator<ChatChunk, void, undefined> {
    const options = mergeOptions(defaults, context.options);
    const shouldFallback = functionOption(options.shouldFallback, 'shouldFallback', defaultShouldFallback);
    const instruction = textOption(options.continueInstruction, 'continueInstruction', CONTINUE_INSTRUCTION);
    const continueOnFailure = booleanOption(options.continueOnFailure, 'continueOnFailure', false);
    const attempts: Record<string, unknown>[] = [];
    const decision: Record<string, unknown> = { strategy: 'fallback', attempts, continuations: 0 };
    context.trace.decision = decision;
    const group = new CallGroup(context.callOptions.signal);
    let partial = '';
    let committed = false;
    let toolCallsSent = false;
    let streamId: string | undefined;
    let lastError: unknown;
    try {
      for (const [index, target] of context.targets.entries()) {
        const continuing = committed;
        const request = continuing
          ? continuationRequest(context.request, partial, instruction)
          : context.request;
        const filter = continuing ? new RestartFilter(partial) : undefined;
        const role = continuing ? 'continuation' : index === 0 ? 'primary' : 'fallback';
        const controller = group.open();
        const held: ChatChunk[] = [];
        let started = false;
        try {
          for await (const chunk of context.stream(target, request, { signal: controller.signal, role })) {
            if (!started && !hasContent(chunk)) {
              // Role and empty chunks wait for the first content: a failure before it leaves no trace.
              if (!continuing) held.push(chunk);
              continue;
            }
            if (!started) {
              started = true;
              if (!continuing) {
                committed = true;
                streamId = chunk.id;
                yield* held;
              }
            }
            const choice = chunk.choices[0];
            if (!filter) {
              partial += chunkText(chunk);
              if (choice?.delta.tool_calls?.length) toolCallsSent = true;
              yield chunk;
              continue;
            }
            // A continuation passes on only new answer text, the finish and the usage.
            const text = filter.push(chunkText(chunk));
            const finish = choice?.finish_reason ?? null;
            if (!text && !finish && !chunk.usage) continue;
            partial += text;
            yield {
              ...chunk,
              id: streamId ?? chunk.id,
              choices: choice
                ? [{ index: 0, delta: text ? { content: text } : {}, finish_reason: finish }]
                : [],
            };
          }
          if (!started)
            throw new UnavailableError(`Target '${target.model}' ended its stream without an answer.`);
          group.close(controller);
          decision.answeredBy = target.model;
          return;
        } catch (error) {
          // Not in a `finally`: a consumer that stops early leaves the call to `dispose`, which aborts it.
          group.close(controller);
          if (group.requestAborted) throw group.requestAbortReason();
          lastError = error;
          attempts.push({ target: target.model, error: errorCode(error), afterFirstToken: committed });
          if (!shouldFallback(error)) throw error;
          if (committed && (!continueOnFailure || toolCallsSent)) throw error;
          if (committed) decision.continuations = (decision.continuations as number) + 1;
        }
      }
      throw lastError ?? new UnavailableError('No target to fall back to.');
    } finally {
      group.dispose();
    }
  }

  return {
    specificationVersion: 'v1',
    name: 'fallback',
    description:
      'Walks the targets until one answers. Streams: switches freely before the first token; after it, continues on the next target (continueOnFailure) or ends with an error.',
    async doChat(context): Promise<ChatResult> {
      const options = mergeOptions(defaults, context.options);
      const shouldFallback = functionOption(options.shouldFallback, 'shouldFallback', defaultShouldFallback);
      const attempts: Record<string, unknown>[] = [];
      const decision: Record<string, unknown> = { strategy: 'fallback', attempts };
      context.trace.decision = decision;
      let lastError: unknown;
      for (const [index, target] of context.targets.entries()) {
        try {
          const result = await context.call(target, context.request, {
            role: index === 0 ? 'primary' : 'fallback',
          });
          decision.answeredBy = target.model;
          return withFusedUsage(context, result);
        } catch (error) {
          if (context.callOptions.signal.aborted) throw error;
          lastError = error;
          attempts.push({ target: target.model, error: errorCode(error) });
          if (!shouldFallback(error)) throw error;
        }
      }
      throw lastError ?? new UnavailableError('No target to fall back to.');
    },
    doStream: (context) => withFusedStreamUsage(context, streamAnswer(context)),
  };
}
