import { toFusionError } from '../../errors/to-fusion-error.js';
import type { ChatChunk } from '../../spec/chat/chat-chunk.js';
import type { Usage } from '../../spec/chat/chat-result.js';
import type { EventSourceLike } from '../event-stream-response.js';
import { completionFinishReason, completionId } from './to-completion.js';

/** Options of {@link CompletionEventSource}. */
export interface CompletionEventSourceOptions {
  /** The model the chunks name. */
  model: string;
  /** Sent as the first piece of text (`echo`). */
  echo?: string;
  /** Send a last chunk with `usage` and no choices (`stream_options.include_usage`). */
  includeUsage: boolean;
  onCancel?: () => void;
  /** Called once when the stream ends, fails or is cancelled. */
  onEnd?: (outcome: { error?: unknown; usage?: Usage }) => void;
}

/**
 * Chat chunks as the legacy completions stream: `data: {"object": "text_completion", "choices":
 * [{text, index, logprobs, finish_reason}]}` events, then `data: [DONE]`. An error after the start
 * becomes one `data: {"error": …}` event, as on the chat route.
 */
export class CompletionEventSource implements EventSourceLike {
  readonly #iterator: AsyncIterator<ChatChunk>;
  readonly #options: CompletionEventSourceOptions;
  readonly #id = completionId();
  readonly #created = Math.floor(Date.now() / 1000);
  #echoed = false;
  #finished = false;
  #usage: Usage | undefined;

  constructor(iterator: AsyncIterator<ChatChunk>, options: CompletionEventSourceOptions) {
    this.#iterator = iterator;
    this.#options = options;
  }

  async read(): Promise<string | undefined> {
    if (this.#finished) return undefined;
    if (!this.#echoed) {
      this.#echoed = true;
      if (this.#options.echo) return this.#event(this.#options.echo, null);
    }
    try {
      while (true) {
        const next = await this.#iterator.next();
        if (this.#finished) return undefined;
        if (next.done) return this.#finish();
        const chunk = next.value;
        if (chunk.usage) this.#usage = chunk.usage;
        const choice = chunk.choices[0];
        if (!choice) continue;
        const text = choice.delta.content ?? '';
        const reason = completionFinishReason(choice.finish_reason);
        if (text !== '' || reason !== null) return this.#event(text, reason);
      }
    } catch (error) {
      return this.#finish(error);
    }
  }

  cancel(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#options.onCancel?.();
    this.#iterator.return?.().catch(() => {});
    this.#options.onEnd?.({ error: new DOMException('The client closed the stream.', 'AbortError') });
  }

  #chunk(choices: unknown[]): Record<string, unknown> {
    return {
      id: this.#id,
      object: 'text_completion',
      created: this.#created,
      model: this.#options.model,
      choices,
    };
  }

  #event(text: string, reason: string | null): string {
    return `data: ${JSON.stringify(this.#chunk([{ text, index: 0, logprobs: null, finish_reason: reason }]))}\n\n`;
  }

  #finish(error?: unknown): string | undefined {
    if (this.#finished) return undefined;
    this.#finished = true;
    const usage = this.#usage;
    let text: string;
    if (error === undefined) {
      text = 'data: [DONE]\n\n';
      if (this.#options.includeUsage && usage)
        text = `data: ${JSON.stringify({ ...this.#chunk([]), usage })}\n\n${text}`;
    } else {
      text = `data: ${JSON.stringify(toFusionError(error).toJSON())}\n\n`;
    }
    this.#options.onEnd?.(error === undefined ? (usage ? { usage } : {}) : { error });
    return text;
  }
}
