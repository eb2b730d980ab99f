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
  /** The reader went away: stop producing and release what the source holds. */
  cancel(): void;
}

const encoder = new TextEncoder();

/**
 * A streaming `Response` whose body is made from an {@link EventSourceLike} only when someone reads
 * `body` (or `text()`, `clone()`…). Until then the source is offered under {@link RESPONSE_EVENTS};
 * once taken (or once the body stream exists) it is no longer offered, so the events go one way only.
 */
export class EventStreamResponse extends Response {
  #source: EventSourceLike | undefined;
  #full: Response | undefined;

  constructor(source: EventSourceLike, init: ResponseInit) {
    super(null, init);
    this.#source = source;
  }

  /** Hands the source over, once; `undefined` when it was taken or a body stream was made of it. */
  [RESPONSE_EVENTS](): EventSourceLike | undefined {
    const source = this.#source;
    this.#source = undefined;
    return source;
  }

  #materialize(): Response {
    if (this.#full) return this.#full;
    const source = this.#source;
    this.#source = undefined;
    const body = source
      ? new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              const text = await source.read();
              if (text === undefined) controller.close();
              else controller.enqueue(encoder.encode(text));
            },
            cancel() {
              source.cancel();
            },
          },
          { highWaterMark: 0 },
        )
      : null;
    this.#full = new Response(body, {
      status: this.status,
      statusText: this.statusText,
      headers: this.headers,
    });
    return this.#full;
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#materialize().body;
  }

  override get bodyUsed(): boolean {
    return this.#full?.bodyUsed ?? false;
  }

  override text(): Promise<string> {
    return this.#materialize().text();
  }

  override json(): Promise<unknown> {
    return this.#materialize().json();
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.#materialize().arrayBuffer();
  }

  override blob(): Promise<Blob> {
    return this.#materialize().blob();
  }

  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.#materialize().bytes();
  }

  override formData(): Promise<FormData> {
    return this.#materialize().formData();
  }

  override clone(): Response {
    return this.#materialize().clone();
  }
}
