import type { CallOptions } from '../spec/call-options.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { ModelInfo } from '../spec/model/model-info.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';

/**
 * One step of a scripted stream: a content chunk, a pause (`honourAbort: false` ignores the signal,
 * like a broken provider), an error, or a hang that never ends.
 */
export type StreamStep =
  | { content: string }
  | { waitMs: number; honourAbort?: boolean }
  | { throw: Error }
  | { hang: true; honourAbort?: boolean };

export interface ScriptedProvider extends ProviderV1 {
  /** Request ids whose signal aborted. */
  readonly aborted: string[];
  /** Request ids whose stream was closed by `return()` or ended. */
  readonly finished: string[];
  /** Options of every call. */
  readonly calls: CallOptions[];
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = ms === Number.POSITIVE_INFINITY ? undefined : setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        if (timer) clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** A provider whose one model `model` streams the given steps; `doChat` follows `chat`. */
export function createScriptedProvider(options: {
  id?: string;
  model?: ModelInfo;
  stream?: StreamStep[];
  /** `hang` never answers and ignores the signal. */
  chat?: 'hang' | ChatResult;
}): ScriptedProvider {
  const aborted: string[] = [];
  const finished: string[] = [];
  const calls: CallOptions[] = [];
  const model = options.model ?? { id: 'model' };
  const watch = (callOptions: CallOptions) => {
    calls.push(callOptions);
    callOptions.signal.addEventListener('abort', () => aborted.push(callOptions.requestId), { once: true });
  };
  return {
    specificationVersion: 'v1',
    id: options.id ?? 'script',
    aborted,
    finished,
    calls,
    async models() {
      return [model];
    },
    async doChat(request, callOptions) {
      watch(callOptions);
      if (options.chat === 'hang' || options.chat === undefined) return new Promise<ChatResult>(() => {});
      return { ...options.chat, model: request.model };
    },
    async *doStream(request, callOptions): AsyncGenerator<ChatChunk> {
      watch(callOptions);
      const chunk = (
        delta: ChatChunk['choices'][number]['delta'],
        finish: 'stop' | null = null,
      ): ChatChunk => ({
        id: 'chatcmpl-script',
        object: 'chat.completion.chunk',
        created: 0,
        model: request.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
      try {
        yield chunk({ role: 'assistant' });
        for (const step of options.stream ?? []) {
          if ('content' in step) yield chunk({ content: step.content });
          else if ('waitMs' in step)
            await pause(step.waitMs, step.honourAbort === false ? undefined : callOptions.signal);
          else if ('throw' in step) throw step.throw;
          else
            await pause(
              Number.POSITIVE_INFINITY,
              step.honourAbort === false ? undefined : callOptions.signal,
            );
        }
        yield chunk({}, 'stop');
      } finally {
        finished.push(callOptions.requestId);
      }
    },
  };
}
