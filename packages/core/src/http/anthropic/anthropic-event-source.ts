import { toFusionError } from '../../errors/to-fusion-error.js';
import type { ChatChunk } from '../../spec/chat/chat-chunk.js';
import type { FinishReason, Usage } from '../../spec/chat/chat-result.js';
import type { EventSourceLike } from '../event-stream-response.js';
import { anthropicErrorBody, messageId, stopReasonOf, usageOf } from './to-anthropic-message.js';

/** Options of {@link AnthropicEventSource}. */
export interface AnthropicEventSourceOptions {
  /** The model the answer names. */
  model: string;
  /** Input tokens announced in `message_start`, before the upstream's count arrives at the end. */
  estimatedInputTokens: number;
  /** Called when the client cancels the stream. */
  onCancel?: () => void;
  /** Called once when the stream ends, fails or is cancelled. */
  onEnd?: (outcome: { error?: unknown; usage?: Usage }) => void;
}

function event(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Chat chunks as Anthropic's Messages stream: `message_start` and `ping`, then for each content block
 * `content_block_start`, its deltas (`text_delta`, `thinking_delta`, `input_json_delta`) and
 * `content_block_stop`, then `message_delta` (stop reason, usage) and `message_stop`. The chunks are
 * pulled on demand; an error after the start becomes one `error` event.
 */
export class AnthropicEventSource implements EventSourceLike {
  readonly #iterator: AsyncIterator<ChatChunk>;
  readonly #options: AnthropicEventSourceOptions;
  #started = false;
  #finished = false;
  /** Index of the open block, -1 for none, and what it is (`tool:<index of the call>` for tool uses). */
  #blockIndex = -1;
  #blockKind: string | undefined;
  #finishReason: FinishReason | null = null;
  #usage: Usage | undefined;

  constructor(iterator: AsyncIterator<ChatChunk>, options: AnthropicEventSourceOptions) {
    this.#iterator = iterator;
    this.#options = options;
  }

  async read(): Promise<string | undefined> {
    if (this.#finished) return undefined;
    if (!this.#started) {
      this.#started = true;
      const message = {
        id: messageId(),
        type: 'message',
        role: 'assistant',
        model: this.#options.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: this.#options.estimatedInputTokens, output_tokens: 0 },
      };
      return event('message_start', { type: 'message_start', message }) + event('ping', { type: 'ping' });
    }
    try {
      while (true) {
        const next = await this.#iterator.next();
        if (this.#finished) return undefined;
        if (next.done) return this.#finish();
        const text = this.#translate(next.value);
        if (text !== '') return text;
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

  /** The events one chunk makes (often none: a role-only or usage-only chunk). */
  #translate(chunk: ChatChunk): string {
    if (chunk.usage) this.#usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) return '';
    let text = '';
    const delta = choice.delta;
    if (delta.reasoning_content) {
      text += this.#open('thinking', { type: 'thinking', thinking: '', signature: '' });
      text += this.#delta({ type: 'thinking_delta', thinking: delta.reasoning_content });
    }
    if (delta.content) {
      text += this.#open('text', { type: 'text', text: '' });
      text += this.#delta({ type: 'text_delta', text: delta.content });
    }
    for (const call of delta.tool_calls ?? []) {
      const kind = `tool:${call.index}`;
      if (this.#blockKind !== kind) {
        text += this.#open(kind, {
          type: 'tool_use',
          id: call.id ?? `toolu_${call.index}`,
          name: call.function?.name ?? '',
          input: {},
        });
      }
      const args = call.function?.arguments;
      if (args) text += this.#delta({ type: 'input_json_delta', partial_json: args });
    }
    if (choice.finish_reason) this.#finishReason = choice.finish_reason;
    return text;
  }

  /** Closes the open block unless it is of `kind`, and opens one of `kind`. */
  #open(kind: string, block: Record<string, unknown>): string {
    if (this.#blockKind === kind) return '';
    const text = this.#close();
    this.#blockIndex++;
    this.#blockKind = kind;
    return `${text}${event('content_block_start', { type: 'content_block_start', index: this.#blockIndex, content_block: block })}`;
  }

  #delta(delta: Record<string, unknown>): string {
    return event('content_block_delta', { type: 'content_block_delta', index: this.#blockIndex, delta });
  }

  #close(): string {
    if (this.#blockKind === undefined) return '';
    this.#blockKind = undefined;
    return event('content_block_stop', { type: 'content_block_stop', index: this.#blockIndex });
  }

  #finish(error?: unknown): string | undefined {
    if (this.#finished) return undefined;
    this.#finished = true;
    const usage = this.#usage;
    let text: string;
    if (error === undefined) {
      const { input_tokens, output_tokens, cache_read_input_tokens } = usageOf(usage);
      const counts: Record<string, number> = { output_tokens };
      // The upstream's count arrives only now; the SDKs take it from here over `message_start`'s estimate.
      if (usage) counts.input_tokens = input_tokens;
      if (cache_read_input_tokens !== undefined) counts.cache_read_input_tokens = cache_read_input_tokens;
      text =
        this.#close() +
        event('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: stopReasonOf(this.#finishReason) ?? 'end_turn', stop_sequence: null },
          usage: counts,
        }) +
        event('message_stop', { type: 'message_stop' });
    } else {
      text = event('error', anthropicErrorBody(toFusionError(error)));
    }
    this.#options.onEnd?.(error === undefined ? (usage ? { usage } : {}) : { error });
    return text;
  }
}
