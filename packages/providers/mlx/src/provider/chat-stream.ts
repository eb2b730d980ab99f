/**
 * One streamed generation through the worker, as OpenAI chunks: text deltas go through the
 * tool-call parser as they arrive, the answer ends with `finish_reason` and usage. Stopping the
 * iteration early cancels the generation in the worker and waits until it has stopped.
 */
import type { ChatChunk, ChatRequest } from '@fusionkit/core';
import { abortReason } from '@fusionkit/core/internal';
import type { WorkerSupervisor } from '../supervisor/worker-supervisor.js';
import type { PromptMessage } from '../tokenizer/chat-template.js';
import { ToolCallParser } from '../tools/tool-call-parser.js';
import type { GenerationResult, LoadedModelInfo } from '../worker/protocol.js';
import { ChatChunkBuilder } from './chat-chunk-builder.js';
import { generateParameters } from './map-chat-request.js';
import { mapWorkerError } from './map-worker-error.js';

export interface ChatStreamInput {
  supervisor: WorkerSupervisor;
  /** The model's id in the worker. */
  model: string;
  info: LoadedModelInfo;
  request: ChatRequest;
  signal: AbortSignal;
  /** Receives the worker's result (usage, KV cache size) before the last chunk is yielded. */
  onResult?: (result: GenerationResult) => void;
}

export async function* streamChat(input: ChatStreamInput): AsyncGenerator<ChatChunk> {
  const { supervisor, model, info, request, signal } = input;
  const cancel = new AbortController();
  const onAbort = () => cancel.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const tools = request.tool_choice !== 'none' && request.tools?.length ? request.tools : undefined;
  const parser = new ToolCallParser({
    format: tools ? info.toolFormat : undefined,
    reasoning: info.reasoning === true,
  });
  const builder = new ChatChunkBuilder(request.model);
  const pending: ChatChunk[] = [];
  let wake: (() => void) | undefined;
  let result: GenerationResult | undefined;
  let failure: unknown;
  let settled = false;
  const call = supervisor
    .call<GenerationResult>(
      {
        type: 'generate',
        model,
        messages: request.messages as PromptMessage[],
        ...(tools ? { tools } : {}),
        ...(request.chat_template_kwargs ? { templateKwargs: request.chat_template_kwargs } : {}),
        parameters: generateParameters(request),
      },
      {
        signal: cancel.signal,
        onDelta: (text) => {
          pending.push(...builder.pieces(parser.push(text)));
          wake?.();
        },
      },
    )
    .then(
      (value) => {
        result = value;
      },
      (error: unknown) => {
        failure = error;
      },
    )
    .finally(() => {
      settled = true;
      wake?.();
    });
  try {
    yield builder.role();
    while (true) {
      while (pending.length > 0) yield pending.shift()!;
      if (settled) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    if (signal.aborted) throw abortReason(signal);
    if (failure !== undefined) throw mapWorkerError(failure, model);
    const done = result!;
    input.onResult?.(done);
    for (const chunk of builder.pieces(parser.finish())) yield chunk;
    const finishReason =
      done.finishReason === 'stop' && builder.toolCalls > 0 ? 'tool_calls' : done.finishReason;
    const { promptTokens, completionTokens, cachedTokens } = done.usage;
    yield builder.chunk({}, finishReason, {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: cachedTokens },
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!settled) {
      // The consumer stopped early: stop the generation, and hold on until the worker has.
      cancel.abort();
      await call;
    }
  }
}
