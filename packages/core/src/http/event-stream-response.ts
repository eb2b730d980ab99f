import { LazyBodyResponse } from './lazy-body-response.js';

/**
 * Where a core event-stream response keeps its source of events. Node adapters pull the events from
 * it and write them straight to the socket, without the Web stream (whose promise machinery per chunk
 * costs more on Node 20 than encoding the chunk). Anyone else sees an ordinary streaming `Response`.
 */
export const RESPONSE_EVENTS = Symbol.for('@fusionkit/response-events');

/** A pull-based source of SSE text: what {@link RESPONSE_EVENTS} holds. Structural, across copies. */
export interface EventSourceLike {
  /** The next piece of the body; `undefined` at its end. Never rejects: failures become events. */
  read(): Promise<string | undefined>;
  /**
   * Optional: the next piece when it is ready now, else `undefined` (then `read()`); never the end.
   * Writers call it after each `read()` to take what one upstream packet carried in one go.
   */
  readReady?(): string | undefined;
  /**
   * Optional: calls `callback` once when `readReady()` may have a piece or `read()` would settle at
   * once; `false` when it cannot promise that (then `read()`). Only after `readReady()` gave nothing.
   */
  whenReady?(callback: () => void): boolean;
  /** The reader went away: stop producing and release what the source holds. */
  cancel(): void;
}

const encoder = new TextEncoder();
/** Text taken from `readReady` into one piece of the body, at most. */
const READY_BATCH_LIMIT = 64 * 1024;

/**
 * A streaming `Response` whose body is made from an {@link EventSourceLike} only when someone reads
 * `body` (or `text()`, `clone()`…). Until then the source is offered under {@link RESPONSE_EVENTS};
 * once taken (or once the body stream exists) it is no longer offered, so the events go one way only.
 */
export class EventStreamResponse extends LazyBodyResponse {
  #source: EventSourceLike | undefined;

  constructor(source: EventSourceLike, init: ResponseInit) {
    super(init);
    this.#source = source;
  }

  /** Hands the source over, once; `undefined` when it was taken or a body stream was made of it. */
  [RESPONSE_EVENTS](): EventSourceLike | undefined {
    const source = this.#source;
    this.#source = undefined;
    return source;
  }

  protected makeBody(): ReadableStream<Uint8Array> | null {
    const source = this.#source;
    this.#source = undefined;
    if (!source) return null;
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          let text = await source.read();
          if (text === undefined) {
            controller.close();
            return;
          }
          // What is ready as well goes in the same piece.
          for (let more = source.readReady?.(); more !== undefined; more = source.readReady?.()) {
            text += more;
            if (text.length >= READY_BATCH_LIMIT) break;
          }
          controller.enqueue(encoder.encode(text));
        },
        cancel() {
          source.cancel();
        },
      },
      { highWaterMark: 0 },
    );
  }
}
