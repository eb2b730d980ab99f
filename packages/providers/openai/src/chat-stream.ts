import type { IncomingMessage } from 'node:http';
import {
  AbortedError,
  type ChatChunk,
  type FusionError,
  toFusionError,
  UnavailableError,
  UpstreamError,
  type Usage,
} from '@fusionkit/core';
import { inferFinishReason } from './infer-finish-reason.js';
import { isRecord } from './json-guards.js';
import { toChatChunk } from './map-chat-chunk.js';
import { mapUpstreamError } from './map-upstream-error.js';
import { type SseEvent, SseParser } from './sse-parser.js';
import type { UpstreamExchange } from './upstream-exchange.js';

/** What a {@link ChatStream} reads and how. */
export interface ChatStreamOptions {
  /** Starts the upstream request; called on the first `next()`. Failures go to `onFailure`. */
  start: (onFailure: (error: FusionError) => void) => UpstreamExchange;
  /** Model id put on every chunk. */
  model: string;
  /** The request's completion token limit, to infer `finish_reason: "length"`. */
  maxTokens: number | undefined;
  /** Provider id, for error messages. */
  providerId: string;
  /** See {@link SseParser}. */
  maxEventBytes: number;
  /** Largest error body read from a failed response. */
  maxErrorBytes: number;
}

/** Chunks parsed but not yet taken that make the stream pause its socket. */
const HIGH_WATER_MARK = 64;

type Phase = 'idle' | 'opening' | 'streaming' | 'ended' | 'closed';
type Waiter = { resolve: (result: IteratorResult<ChatChunk>) => void; reject: (error: unknown) => void };

/**
 * The chunks of one streamed chat answer, read from the upstream's SSE response.
 *
 * Lazy: the request starts on the first `next()`. An error the server sends inside the stream
 * (`data: {"error": ...}` after HTTP 200) is thrown from `next()` as the mapped FusionError, after
 * the chunks that came before it. `return()` (a `for await` that breaks) and an abort of the call's
 * signal destroy the upstream request at once, also while a `next()` is pending. A stream read to
 * its end leaves its connection in the pool.
 */
export class ChatStream implements AsyncIterableIterator<ChatChunk> {
  readonly #options: Omit<ChatStreamOptions, 'start'>;
  /** Dropped once called: it holds the request body, which an open stream no longer needs. */
  #start: ChatStreamOptions['start'] | undefined;
  readonly #parser: SseParser;
  #exchange: UpstreamExchange | undefined;
  #response: IncomingMessage | undefined;
  #phase: Phase = 'idle';
  #queue: ChatChunk[] = [];
  #head = 0;
  #waiters: Waiter[] = [];
  #error: FusionError | undefined;
  #paused = false;
  #sentRole = false;
  #sawFinish = false;
  /** A `stop` chunk waiting for the usage that may follow it in its own chunk (OpenAI's `include_usage`). */
  #held: ChatChunk | undefined;
  /** Called once when a chunk is ready or the stream settles (the core's `ReadyValues.onReady`). */
  #ready: (() => void) | undefined;

  constructor(options: ChatStreamOptions) {
    const { start, ...rest } = options;
    this.#options = rest;
    this.#start = start;
    this.#parser = new SseParser({ maxEventBytes: options.maxEventBytes });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ChatChunk>> {
    if (this.#waiters.length === 0 && this.#head < this.#queue.length) {
      return Promise.resolve({ value: this.#take(), done: false });
    }
    if (this.#phase === 'idle') this.#open();
    return new Promise((resolve, reject) => {
      // A literal for the usual one waiter: `push` onto `[]` reserves room for 17.
      if (this.#waiters.length === 0) this.#waiters = [{ resolve, reject }];
      else this.#waiters.push({ resolve, reject });
      this.#flush();
    });
  }

  /**
   * A chunk already parsed, when no `next()` waits for one: the core takes the chunks one upstream
   * packet carried without a promise each (its `ReadyValues`). Never the end or an error.
   */
  takeReady(): ChatChunk | undefined {
    return this.#waiters.length === 0 && this.#head < this.#queue.length ? this.#take() : undefined;
  }

  /** Calls `callback` once when a chunk is ready or the stream ends, fails or closes (see `takeReady`). */
  onReady(callback: () => void): boolean {
    if (this.#waiters.length > 0 || this.#head < this.#queue.length) return false;
    if (this.#phase !== 'opening' && this.#phase !== 'streaming') return false;
    this.#ready = callback;
    return true;
  }

  #wake(): void {
    const ready = this.#ready;
    if (ready === undefined) return;
    if (this.#head >= this.#queue.length && (this.#phase === 'opening' || this.#phase === 'streaming'))
      return;
    this.#ready = undefined;
    ready();
  }

  /** Stops reading: releases the upstream request and ends the iteration. */
  return(): Promise<IteratorResult<ChatChunk>> {
    this.#close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<ChatChunk>> {
    this.#close();
    return Promise.reject(error);
  }

  #open(): void {
    this.#phase = 'opening';
    let exchange: UpstreamExchange;
    try {
      const start = this.#start!;
      this.#start = undefined;
      exchange = start((error) => this.#fail(error));
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#exchange = exchange;
    exchange.response().then(
      (response) => this.#onResponse(exchange, response),
      (error: unknown) => this.#fail(error),
    );
  }

  async #onResponse(exchange: UpstreamExchange, response: IncomingMessage): Promise<void> {
    if (this.#phase !== 'opening') return;
    const status = response.statusCode ?? 0;
    const contentType = response.headers['content-type'] ?? '';
    if (status < 200 || status >= 300 || contentType.includes('application/json')) {
      try {
        const text = (await exchange.readBody(this.#options.maxErrorBytes)).toString('utf8');
        const context = { providerId: this.#options.providerId, headers: response.headers };
        this.#fail(
          status >= 300 || status < 200
            ? mapUpstreamError(status, text, context)
            : (inStreamError(text, context) ??
                new UpstreamError('The upstream answered a stream request with JSON, not an event stream.')),
        );
      } catch (error) {
        this.#fail(error);
      }
      return;
    }
    exchange.stopTimer();
    this.#response = response;
    this.#phase = 'streaming';
    response.on('data', this.#onData);
    response.once('end', this.#onEnd);
    response.once('close', this.#onClose);
    response.on('error', this.#onClose);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#phase !== 'streaming') return;
    try {
      const events = this.#parser.push(chunk);
      for (const event of events) {
        this.#onEvent(event);
        if (this.#phase !== 'streaming') break;
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (this.#waiters.length > 0) this.#flush();
    if (this.#queue.length - this.#head >= HIGH_WATER_MARK && !this.#paused && this.#phase === 'streaming') {
      this.#paused = true;
      this.#response?.pause();
    }
    this.#wake();
  };

  readonly #onEnd = (): void => {
    if (this.#phase === 'streaming') {
      try {
        for (const event of this.#parser.end()) {
          this.#onEvent(event);
          if (this.#phase !== 'streaming') break;
        }
      } catch (error) {
        this.#fail(error);
      }
      if (this.#phase === 'streaming') {
        if (this.#sawFinish) this.#finish();
        else this.#fail(new UpstreamError('The upstream ended the stream before the answer was finished.'));
      }
    }
    this.#exchange?.release();
  };

  readonly #onClose = (): void => {
    if (this.#phase !== 'streaming') return;
    this.#fail(
      this.#exchange?.failure ??
        new UnavailableError(
          `The upstream of provider '${this.#options.providerId}' closed the stream mid-answer.`,
        ),
    );
  };

  #onEvent(event: SseEvent): void {
    const data = event.data;
    if (data === '[DONE]') {
      this.#finish();
      return;
    }
    if (data.length === 0) return;
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      throw new UpstreamError(`The upstream sent a stream event that is not JSON: ${data.slice(0, 200)}`);
    }
    if (!isRecord(payload))
      throw new UpstreamError('The upstream sent a stream event that is not an object.');
    if ((payload.error != null && payload.choices === undefined) || event.event === 'error') {
      throw mapUpstreamError(200, payload, { providerId: this.#options.providerId });
    }
    const chunk = toChatChunk(payload, this.#options.model, !this.#sentRole);
    if (!this.#sentRole && chunk.choices[0]?.delta.role !== undefined) this.#sentRole = true;

    if (this.#held !== undefined) {
      const held = this.#held;
      this.#held = undefined;
      if (chunk.usage) this.#inferLength(held, chunk.usage);
      this.#enqueue(held);
    }
    const reason = chunk.choices[0]?.finish_reason;
    if (reason) {
      this.#sawFinish = true;
      if (reason === 'stop' && this.#options.maxTokens !== undefined) {
        if (!chunk.usage) {
          this.#held = chunk;
          return;
        }
        this.#inferLength(chunk, chunk.usage);
      }
    }
    this.#enqueue(chunk);
  }

  #inferLength(chunk: ChatChunk, usage: Usage): void {
    for (const choice of chunk.choices) {
      choice.finish_reason = inferFinishReason(choice.finish_reason, usage, this.#options.maxTokens);
    }
  }

  /** `[DONE]`, or the end of a stream that had its finish chunk. Keeps reading to the response's end. */
  #finish(): void {
    if (this.#held !== undefined) {
      this.#enqueue(this.#held);
      this.#held = undefined;
    }
    this.#phase = 'ended';
    this.#resume();
    this.#flush();
  }

  #fail(error: unknown): void {
    if (this.#phase === 'closed' || this.#phase === 'ended' || this.#error !== undefined) return;
    const failure = toFusionError(error);
    this.#error = failure;
    this.#phase = 'ended';
    this.#exchange?.fail(failure);
    this.#flush();
  }

  #close(): void {
    if (this.#phase === 'closed') return;
    const wasEnded = this.#phase === 'ended';
    this.#phase = 'closed';
    this.#queue = [];
    this.#head = 0;
    this.#error = undefined;
    if (wasEnded) this.#resume();
    else this.#exchange?.fail(new AbortedError('The consumer stopped reading the stream.'));
    for (const waiter of this.#waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
    this.#wake();
  }

  #flush(): void {
    this.#wake();
    while (this.#waiters.length > 0) {
      if (this.#head < this.#queue.length) {
        this.#waiters.shift()!.resolve({ value: this.#take(), done: false });
      } else if (this.#error !== undefined) {
        const error = this.#error;
        this.#error = undefined;
        this.#phase = 'closed';
        this.#waiters.shift()!.reject(error);
      } else if (this.#phase === 'ended' || this.#phase === 'closed') {
        this.#waiters.shift()!.resolve({ value: undefined, done: true });
      } else {
        return;
      }
    }
  }

  /**
   * Queues a parsed chunk. The queue is emptied as it is read, so usually this is its only chunk: a
   * literal holds it, where `push` onto `[]` would reserve room for 17 on every chunk.
   */
  #enqueue(chunk: ChatChunk): void {
    if (this.#queue.length === 0) this.#queue = [chunk];
    else this.#queue.push(chunk);
  }

  #take(): ChatChunk {
    const chunk = this.#queue[this.#head++]!;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
      if (this.#paused && this.#phase === 'streaming') this.#resume();
    }
    return chunk;
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#response?.resume();
  }
}

/** The error in a JSON body that answered a stream request with HTTP 200, if it is one. */
function inStreamError(text: string, context: { providerId: string }): FusionError | undefined {
  try {
    const body: unknown = JSON.parse(text);
    return isRecord(body) && body.error != null ? mapUpstreamError(200, body, context) : undefined;
  } catch {
    return undefined;
  }
}
