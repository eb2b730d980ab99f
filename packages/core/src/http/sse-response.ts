import { toFusionError } from '../errors/to-fusion-error.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { Usage } from '../spec/chat/chat-result.js';
import { onReady, takeReady } from '../util/ready-values.js';
import { ChunkEventWriter } from './chunk-event.js';
import { type EventSourceLike, EventStreamResponse } from './event-stream-response.js';

const DONE = 'data: [DONE]\n\n';
const STANDARD_FIELDS = new Set([
  'id',
  'object',
  'created',
  'model',
  'choices',
  'usage',
  'system_fingerprint',
]);

/** Headers of every SSE answer: no caching, and no buffering by nginx-like proxies. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const;

export interface SseOptions {
  /** Send a last chunk with `usage` and empty `choices` (OpenAI's `stream_options.include_usage`). */
  includeUsage: boolean;
  /** Called once when the stream ends, fails or is cancelled. */
  onEnd?: (outcome: { error?: unknown; usage?: Usage }) => void;
  /** Called when the client cancels the stream. */
  onCancel?: () => void;
}

/**
 * OpenAI's SSE stream of chat chunks, one event per {@link ChatEventSource.read}. The chunks are
 * pulled from the iterator on demand, so a slow client slows the upstream instead of filling memory.
 * An error after the first chunk becomes one `data: {"error": …}` event.
 */
export class ChatEventSource implements EventSourceLike {
  #pending: IteratorResult<ChatChunk> | undefined;
  readonly #iterator: AsyncIterator<ChatChunk>;
  readonly #options: SseOptions;
  #usage: Usage | undefined;
  #template: ChatChunk | undefined;
  /** Extra fields of choice-less chunks (a pipeline's `fusion`), sent on the last chunk. */
  #extras: Record<string, unknown> | undefined;
  #finished = false;
  readonly #writer = new ChunkEventWriter();

  constructor(
    first: IteratorResult<ChatChunk> | undefined,
    iterator: AsyncIterator<ChatChunk>,
    options: SseOptions,
  ) {
    this.#pending = first;
    this.#iterator = iterator;
    this.#options = options;
  }

  /** The next event's text; `undefined` once the stream has ended. Never rejects. */
  async read(): Promise<string | undefined> {
    if (this.#finished) return undefined;
    try {
      // Loop until there is an event: usage-only chunks produce none of their own.
      while (true) {
        const next = this.#pending ?? (await this.#iterator.next());
        this.#pending = undefined;
        if (this.#finished) return undefined;
        if (next.done) return this.#finish();
        const text = this.#event(next.value);
        if (text !== undefined) return text;
      }
    } catch (error) {
      return this.#finish(error);
    }
  }

  /**
   * The next event's text when its chunk is ready now, else `undefined` (then `read()`): lets a
   * writer take the events one upstream packet carried without a promise each. Never the end or an
   * error. Not while a `read()` is pending.
   */
  readReady(): string | undefined {
    if (this.#finished || this.#pending !== undefined) return undefined;
    try {
      while (true) {
        const chunk = takeReady(this.#iterator);
        if (chunk === undefined || this.#finished) return undefined;
        const text = this.#event(chunk);
        if (text !== undefined) return text;
      }
    } catch (error) {
      return this.#finish(error);
    }
  }

  /**
   * Calls `callback` once, without a promise, when `readReady()` may have an event or `read()` would
   * settle at once; `false` when it cannot (then `read()`). Only after `readReady()` gave nothing.
   */
  whenReady(callback: () => void): boolean {
    return !this.#finished && this.#pending === undefined && onReady(this.#iterator, callback);
  }

  /** A chunk's event, or `undefined` for a usage-only chunk (its usage waits for the end). */
  #event(chunk: ChatChunk): string | undefined {
    this.#template ??= chunk;
    if (chunk.usage) this.#usage = chunk.usage;
    // Usage goes out once, at the end, and only when asked for, as OpenAI does.
    if (chunk.usage !== undefined) delete chunk.usage;
    if (this.#options.includeUsage) chunk.usage = null;
    if (chunk.choices.length === 0) {
      for (const key of Object.keys(chunk)) {
        if (!STANDARD_FIELDS.has(key)) (this.#extras ??= {})[key] = chunk[key];
      }
      return undefined;
    }
    return this.#writer.event(chunk);
  }

  /** Stops the stream: the client went away. */
  cancel(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#options.onCancel?.();
    this.#iterator.return?.().catch(() => {});
    this.#options.onEnd?.({ error: new DOMException('The client closed the stream.', 'AbortError') });
  }

  /** The last event(s): usage and extras, then `[DONE]`; or the error event. */
  #finish(error?: unknown): string | undefined {
    if (this.#finished) return undefined;
    this.#finished = true;
    let text: string;
    const usage = this.#usage;
    if (error === undefined) {
      text = DONE;
      const withUsage = this.#options.includeUsage && usage !== undefined;
      const template = this.#template;
      if (template && (withUsage || this.#extras)) {
        // Only the identity of the stream is repeated: extra fields of the first chunk (citations) are not.
        const { id, object, created, model } = template;
        const last: ChatChunk = { id, object, created, model, choices: [], ...this.#extras };
        if (withUsage) last.usage = usage;
        else delete last.usage;
        text = `data: ${JSON.stringify(last)}\n\n${DONE}`;
      }
    } else {
      text = `data: ${JSON.stringify(toFusionError(error).toJSON())}\n\n`;
    }
    this.#options.onEnd?.(error === undefined ? (usage ? { usage } : {}) : { error });
    return text;
  }
}

/** The chat chunks as an SSE `Response`; see {@link ChatEventSource} and {@link EventStreamResponse}. */
export function sseResponse(
  iterator: AsyncIterator<ChatChunk>,
  options: SseOptions,
  headers: Record<string, string>,
): Response {
  return new EventStreamResponse(new ChatEventSource(undefined, iterator, options), {
    status: 200,
    headers: { ...SSE_HEADERS, ...headers },
  });
}

/** The chat chunks as an SSE byte stream (for callers that want a body of their own). */
export function sseStream(
  first: IteratorResult<ChatChunk> | undefined,
  iterator: AsyncIterator<ChatChunk>,
  options: SseOptions,
): ReadableStream<Uint8Array> {
  return new EventStreamResponse(new ChatEventSource(first, iterator, options), {}).body!;
}
