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
  /**
   * Events of the upstream's packets not read yet: one packet may carry a whole answer, and its
   * first chunk leaves before the rest are parsed (each is parsed when it is taken).
   */
  #events: SseEvent[] = [];
  #nextEvent = 0;
  #waiters: Waiter[] = [];
  #error: FusionError | undefined;
  #paused = false;
  /** Inside `#onReadable`: a resume it causes reads on in its loop, not in a nested one. */
  #reading = false;
  /** The response ended while events were still to be parsed (see `#onEnd`). */
  #endPending = false;
  #sentRole = false;
  #sawFinish = false;
  /** A `stop` chunk waiting for the usage that may follow it in its own chunk (OpenAI's `include_usage`). */
  #held: ChatChunk | undefined;
  /** Called once when a chunk is ready or the stream settles (the core's `ReadyValues.onReady`). */
  #onReadyCallback: (() => void) | undefined;

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
    if (this.#waiters.length === 0 && this.#ready()) {
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
    return this.#waiters.length === 0 && this.#ready() ? this.#take() : undefined;
  }

  /** Whether a chunk is queued, parsing the events of the last packets until one is or none is left. */
  #ready(): boolean {
    while (this.#head >= this.#queue.length) {
      if (this.#nextEvent < this.#events.length) {
        if (this.#phase !== 'streaming') {
          this.#dropEvents();
          continue;
        }
        this.#parseNext();
      } else if (this.#endPending) {
        this.#endPending = false;
        this.#handleEnd();
      } else {
        break;
      }
    }
    return this.#head < this.#queue.length;
  }

  /** Events not parsed yet, or an end not handled yet. */
  #hasUnread(): boolean {
    return this.#nextEvent < this.#events.length || this.#endPending;
  }

  #dropEvents(): void {
    this.#events = [];
    this.#nextEvent = 0;
  }

  /** Calls `callback` once when a chunk is ready or the stream ends, fails or closes (see `takeReady`). */
  onReady(callback: () => void): boolean {
    if (this.#waiters.length > 0 || this.#head < this.#queue.length || this.#hasUnread()) return false;
    if (this.#phase !== 'opening' && this.#phase !== 'streaming') return false;
    this.#onReadyCallback = callback;
    return true;
  }

  #wake(): void {
    const ready = this.#onReadyCallback;
    if (ready === undefined) return;
    if (
      this.#head >= this.#queue.length &&
      !this.#hasUnread() &&
      (this.#phase === 'opening' || this.#phase === 'streaming')
    )
      return;
    this.#onReadyCallback = undefined;
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
    // 'readable', not 'data': node:http emits a 'data' event per chunk of the upstream's chunked
    // body, all of one socket read in one go, and promise reactions (the orchestrator's) wait until
    // they are done. Read at once, the first event is taken before the rest are parsed (`#events`).
    response.on('readable', this.#onReadable);
    response.once('end', this.#onEnd);
    response.once('close', this.#onClose);
    response.on('error', this.#onClose);
  }

  /** Reads what the response holds, unless the chunks not taken yet pause it; after the answer, discards. */
  readonly #onReadable = (): void => {
    const response = this.#response;
    if (response === undefined || this.#reading) return;
    this.#reading = true;
    try {
      let chunk: Buffer | null;
      while (
        !(this.#paused && this.#phase === 'streaming') &&
        (chunk = response.read() as Buffer | null) !== null
      ) {
        if (this.#phase === 'streaming') this.#onData(chunk);
      }
    } finally {
      this.#reading = false;
    }
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#phase !== 'streaming') return;
    let events: SseEvent[];
    try {
      events = this.#parser.push(chunk);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (events.length === 0) return;
    // Parsed when taken (see `#events`); the first one now, so that a chunk is ready to wake for.
    if (this.#nextEvent === this.#events.length) {
      this.#events = events;
      this.#nextEvent = 0;
    } else {
      for (const event of events) this.#events.push(event);
    }
    this.#ready();
    if (this.#waiters.length > 0) this.#flush();
    if (this.#backlog() >= HIGH_WATER_MARK && !this.#paused && this.#phase === 'streaming') {
      // Left in the response's buffer, which stops reading the socket when full.
      this.#paused = true;
    }
    this.#wake();
  };

  readonly #onEnd = (): void => {
    if (this.#phase === 'streaming' && this.#nextEvent < this.#events.length) {
      // The events not taken yet come first, parsed as they are taken: the end is handled after the
      // last of them. (Parsing them all here would hold the first chunk back: 'end' comes before
      // the promise reactions that pass that chunk on.)
      this.#endPending = true;
      return;
    }
    this.#handleEnd();
  };

  /** The response ended and every event before its end was parsed. */
  #handleEnd(): void {
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
  }

  readonly #onClose = (): void => {
    // After its end a response closes as a matter of course.
    if (this.#phase !== 'streaming' || this.#endPending) return;
    // What arrived before the cut is still the answer's: its chunks go out ahead of the error.
    this.#parseAll();
    if (this.#phase !== 'streaming') return;
    this.#fail(
      this.#exchange?.failure ??
        new UnavailableError(
          `The upstream of provider '${this.#options.providerId}' closed the stream mid-answer.`,
        ),
    );
  };

  /** Chunks not yet taken and events not yet parsed: what pauses the socket past the high-water mark. */
  #backlog(): number {
    return this.#queue.length - this.#head + this.#events.length - this.#nextEvent;
  }

  /** Parses every event left of the packets read so far. */
  #parseAll(): void {
    while (this.#nextEvent < this.#events.length && this.#phase === 'streaming') this.#parseNext();
    this.#dropEvents();
  }

  /** Parses the next unread event; one that is bad fails the stream. */
  #parseNext(): void {
    const event = this.#events[this.#nextEvent++]!;
    if (this.#nextEvent === this.#events.length) this.#dropEvents();
    try {
      this.#onEvent(event);
    } catch (error) {
      this.#fail(error);
    }
  }

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
    this.#dropEvents();
    this.#error = undefined;
    if (this.#endPending) {
      // The response has ended: its connection goes back to the pool.
      this.#endPending = false;
      this.#exchange?.release();
    } else if (wasEnded) this.#resume();
    else this.#exchange?.fail(new AbortedError('The consumer stopped reading the stream.'));
    for (const waiter of this.#waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
    this.#wake();
  }

  #flush(): void {
    this.#wake();
    while (this.#waiters.length > 0) {
      if (this.#ready()) {
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
      if (this.#paused && this.#phase === 'streaming' && this.#nextEvent >= this.#events.length)
        this.#resume();
    }
    return chunk;
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    // What arrived meanwhile waits in the response's buffer: no 'readable' comes for it.
    this.#onReadable();
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
