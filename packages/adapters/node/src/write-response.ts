import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

type Reader = ReadableStreamDefaultReader<Uint8Array>;

const NOT_READY = Symbol('not ready');
/** Where the core's light headers offer their entries (see the core's `LightHeaders`). */
const HEADER_PAIRS = Symbol.for('@fusionkit/header-pairs');

/** Where the core's JSON responses keep their text (see the core's `JsonTextResponse`). */
export const RESPONSE_TEXT = Symbol.for('@fusionkit/response-text');
/** Where the core's event-stream responses offer their events (see the core's `EventStreamResponse`). */
export const RESPONSE_EVENTS = Symbol.for('@fusionkit/response-events');
const noop = () => {};

/** The core's pull-based source of SSE text (structural: the core may be another installed copy). */
interface EventSourceLike {
  read(): Promise<string | undefined>;
  /** The next piece when it is ready now (optional; never the end). */
  readReady?(): string | undefined;
  /** Calls back once when `readReady` may have a piece or `read` settles at once (optional). */
  whenReady?(callback: () => void): boolean;
  cancel(): void;
}

/** Takes the response's event source, when it is a core event stream whose body nobody made yet. */
function takeEvents(response: Response): EventSourceLike | undefined {
  const take = (response as { [RESPONSE_EVENTS]?: unknown })[RESPONSE_EVENTS];
  return typeof take === 'function' ? (take.call(response) as EventSourceLike | undefined) : undefined;
}

/**
 * The Response's headers for node:http. `set-cookie` stays a list; hop-by-hop headers are the
 * server's business and are dropped, except a `connection: close` the application asks for.
 */
function outgoingHeaders(headers: Headers): OutgoingHttpHeaders {
  const result: OutgoingHttpHeaders = {};
  const cookies: string[] = [];
  const add = (name: string, value: string) => {
    switch (name) {
      case 'set-cookie':
        cookies.push(value);
        break;
      case 'connection':
        if (value.toLowerCase() === 'close') result.connection = 'close';
        break;
      case 'keep-alive':
      case 'transfer-encoding':
        break;
      default: {
        // Light headers may hold a name twice (`append`): joined as `Headers` joins them.
        const before = result[name];
        result[name] = before === undefined ? value : `${before}, ${value}`;
      }
    }
  };
  const pairs = (headers as { [HEADER_PAIRS]?: () => readonly string[] })[HEADER_PAIRS];
  if (typeof pairs === 'function') {
    // The core's light headers give their entries as they are: no sorting, no iterator objects.
    const list = pairs.call(headers);
    for (let index = 0; index < list.length; index += 2) add(list[index]!, list[index + 1]!);
  } else {
    for (const [name, value] of headers) add(name, value);
  }
  if (cookies.length > 0) result['set-cookie'] = cookies;
  return result;
}

/**
 * The read's result if it settles within a few microtasks, else NOT_READY. An in-memory body (a JSON
 * answer) is done by then; a live stream is not.
 */
function settledSoon<T>(read: Promise<T>): Promise<T | typeof NOT_READY> {
  const notReady = Promise.resolve()
    .then(noop)
    .then((): typeof NOT_READY => NOT_READY);
  return Promise.race([read, notReady]);
}

/** Resolves on 'drain', or on 'close' when the client is gone. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (response.destroyed) return resolve();
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/** Text gathered for one write, at most (see {@link pipeBody}). */
const BATCH_LIMIT = 64 * 1024;

/** The next piece of a body, or `undefined` at its end. */
type Pull = () => Promise<Uint8Array | string | undefined>;

/**
 * Writes what is left of a `ReadableStream` body, waiting for 'drain' whenever the socket's buffer
 * is full. Text pieces that are ready together leave in one write: they are gathered until the
 * check phase of the event loop's turn (or 64 KiB), then written at once. (The core's event streams
 * take {@link EventPump} instead.)
 */
async function pipeBody(
  pull: Pull,
  response: ServerResponse,
  pending: Promise<Uint8Array | string | undefined> | undefined,
): Promise<void> {
  let next = pending;
  let text = '';
  let timer: NodeJS.Immediate | undefined;
  const flush = () => {
    clearImmediate(timer);
    timer = undefined;
    if (text === '' || response.destroyed) return;
    const batch = text;
    text = '';
    response.write(batch);
  };
  try {
    while (!response.destroyed) {
      const value = await (next ?? pull());
      next = undefined;
      if (value === undefined || response.destroyed) break;
      if (typeof value === 'string') {
        text += value;
        if (text.length >= BATCH_LIMIT) flush();
        else timer ??= setImmediate(flush);
      } else {
        flush();
        response.write(value);
      }
      // A batch written in the check phase may have filled the socket's buffer since the last look.
      if (response.writableNeedDrain) await drained(response);
    }
  } catch (error) {
    // What was produced before the failure still goes out, ahead of the cut.
    flush();
    throw error;
  } finally {
    clearImmediate(timer);
  }
  // The last batch leaves with the end of the response.
  if (!response.destroyed) response.end(text === '' ? undefined : text);
}

/**
 * Cuts a response without its end, after what was written has left: the client sees a truncated
 * stream (destroying at once could drop the head that shares a write with it).
 */
function cutResponse(outgoing: ServerResponse): void {
  const socket = outgoing.socket;
  if (socket && !socket.destroyed) socket.end();
  else outgoing.destroy();
}

function pullFrom(reader: Reader): Pull {
  return async () => {
    const { done, value } = await reader.read();
    return done ? undefined : value;
  };
}

/**
 * Streams a core event source without an async frame per response or a promise per event: the
 * source's readiness callback wakes the pump, which takes every event that is ready in one loop.
 * Events ready together leave in one write, as in {@link pipeBody}. The head goes out with the first
 * event when it is ready within a few microtasks, else at once. The source never rejects (failures
 * are events); the client's going away cancels it; a write that throws cuts the response.
 */
class EventPump {
  readonly #source: EventSourceLike;
  readonly #outgoing: ServerResponse;
  readonly #done: () => void;
  #text = '';
  #timer: NodeJS.Immediate | undefined;
  #ended = false;
  #firstSettled = false;

  constructor(source: EventSourceLike, outgoing: ServerResponse, done: () => void) {
    this.#source = source;
    this.#outgoing = outgoing;
    this.#done = done;
  }

  start(status: number, statusText: string | undefined, headers: OutgoingHttpHeaders): void {
    this.#outgoing.once('close', this.#onClose);
    try {
      this.#outgoing.writeHead(status, statusText, headers);
    } catch {
      this.#fail();
      return;
    }
    this.#source.read().then(this.#onFirst);
    // Three microtasks, as long as an answer already in memory takes to settle.
    Promise.resolve()
      .then(noop)
      .then(() => {
        if (!this.#firstSettled && !this.#ended && !this.#outgoing.destroyed) this.#outgoing.flushHeaders();
      });
  }

  readonly #onClose = (): void => {
    if (!this.#outgoing.writableFinished) this.#source.cancel();
    // Gone: nothing more can be written, whatever the source does next.
    this.#end();
  };

  readonly #onFirst = (value: string | undefined): void => {
    this.#firstSettled = true;
    if (value === undefined || this.#ended || this.#outgoing.destroyed) {
      this.#onRead(value);
      return;
    }
    try {
      // The head and the first event leave at once: the first byte does not wait for the events
      // that are ready with it (a fast upstream's whole answer) to be gathered into one write.
      this.#add(value);
      this.#flush();
    } catch {
      this.#fail();
      return;
    }
    // node:http sends a write when the socket uncorks, on the next tick: the rest waits for the
    // check phase, after that tick, rather than being parsed and gathered before the first write leaves.
    setImmediate(this.#afterFirst);
  };

  readonly #afterFirst = (): void => {
    if (this.#ended) return;
    if (this.#outgoing.destroyed) {
      this.#end();
      return;
    }
    try {
      this.#addReady();
    } catch {
      this.#fail();
      return;
    }
    this.#next();
  };

  /** A `read()` settled: the next event, or the end. */
  readonly #onRead = (value: string | undefined): void => {
    if (this.#ended) return;
    if (value === undefined || this.#outgoing.destroyed) {
      this.#end();
      return;
    }
    try {
      this.#add(value);
      this.#addReady();
    } catch {
      // A write threw.
      this.#fail();
      return;
    }
    this.#next();
  };

  /** The source said an event may be ready. */
  readonly #onWake = (): void => {
    if (this.#ended) return;
    if (this.#outgoing.destroyed) {
      this.#end();
      return;
    }
    let took: boolean;
    try {
      took = this.#addReady();
    } catch {
      this.#fail();
      return;
    }
    // Woken with nothing ready: the end, a failure or a wait, which `read()` tells apart.
    if (took) this.#next();
    else this.#read();
  };

  readonly #onDrained = (): void => {
    this.#outgoing.off('drain', this.#onDrained);
    this.#outgoing.off('close', this.#onDrained);
    this.#next();
  };

  #read(): void {
    this.#source.read().then(this.#onRead);
  }

  /** After the ready events went: waits for room in the socket, then for the next event. */
  #next(): void {
    if (this.#ended) return;
    const outgoing = this.#outgoing;
    if (outgoing.destroyed) {
      this.#end();
      return;
    }
    // A batch written in the check phase may have filled the socket's buffer since the last look.
    if (outgoing.writableNeedDrain) {
      outgoing.on('drain', this.#onDrained);
      outgoing.on('close', this.#onDrained);
      return;
    }
    const whenReady = this.#source.whenReady;
    if (whenReady === undefined || !whenReady.call(this.#source, this.#onWake)) this.#read();
  }

  /** Takes the events that are ready now; `false` when there was none. */
  #addReady(): boolean {
    const source = this.#source;
    if (source.readReady === undefined) return false;
    let took = false;
    for (let more = source.readReady(); more !== undefined; more = source.readReady()) {
      took = true;
      this.#add(more);
      if (this.#outgoing.destroyed) break;
    }
    return took;
  }

  #add(value: string): void {
    this.#text += value;
    if (this.#text.length >= BATCH_LIMIT) this.#flush();
    else this.#timer ??= setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    clearImmediate(this.#timer);
    this.#timer = undefined;
    if (this.#text === '' || this.#outgoing.destroyed) return;
    const batch = this.#text;
    this.#text = '';
    this.#outgoing.write(batch);
  };

  /** The end of the events: the last batch leaves with the end of the response. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearImmediate(this.#timer);
    const outgoing = this.#outgoing;
    if (!outgoing.destroyed) {
      try {
        outgoing.end(this.#text === '' ? undefined : this.#text);
      } catch {
        cutResponse(outgoing);
      }
    }
    this.#text = '';
    this.#finish();
  }

  /** A write threw: what was produced before still goes out, ahead of the cut. */
  #fail(): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      this.#flush();
    } catch {
      // The socket is beyond writing.
    }
    clearImmediate(this.#timer);
    this.#source.cancel();
    cutResponse(this.#outgoing);
    this.#finish();
  }

  #finish(): void {
    this.#outgoing.off('close', this.#onClose);
    this.#outgoing.off('drain', this.#onDrained);
    this.#outgoing.off('close', this.#onDrained);
    this.#done();
  }
}

/** Streams a core event source (see {@link EventPump}); resolves when the response is done. */
function writeEvents(
  source: EventSourceLike,
  outgoing: ServerResponse,
  status: number,
  statusText: string | undefined,
  headers: OutgoingHttpHeaders,
): Promise<void> {
  return new Promise((resolve) =>
    new EventPump(source, outgoing, resolve).start(status, statusText, headers),
  );
}

/** What {@link writeResponse} returns for a response it wrote at once: one settled promise for all. */
const WRITTEN: Promise<void> = Promise.resolve();

/**
 * Writes a Fetch `Response` to a node:http response: status, headers (several `set-cookie` kept),
 * then the body. An in-memory body is sent in one piece with `content-length`; a stream is written
 * chunk by chunk with backpressure, and `text/event-stream` headers go out at once (with the first event
 * when it is ready). When the
 * client goes away the body is cancelled; when the body fails mid-way the socket is destroyed so the
 * client sees a cut response, not a complete one. Resolves when the response is done; never rejects.
 */
export function writeResponse(response: Response, outgoing: ServerResponse): Promise<void> {
  // The core's JSON answers carry their text: one write, no stream to create and drain. They are
  // written here, outside an async function: its generator (room for every local of the streaming
  // paths) and promise per response: ~0.8 KB less garbage per chat through `fusion serve`, measured.
  try {
    const text = (response as { [RESPONSE_TEXT]?: unknown })[RESPONSE_TEXT];
    const status = response.status;
    if (typeof text !== 'string' || status === 0) return writeOtherResponse(response, outgoing, text);
    const headers = outgoingHeaders(response.headers);
    const statusText = response.statusText || undefined;
    if (outgoing.destroyed) return WRITTEN;
    headers['content-length'] = Buffer.byteLength(text);
    if (outgoing.req?.method === 'HEAD') outgoing.writeHead(status, statusText, headers).end();
    else outgoing.writeHead(status, statusText, headers).end(text);
    return WRITTEN;
  } catch (error) {
    // As the async function this was: what throws rejects the returned promise.
    return Promise.reject(error);
  }
}

/** {@link writeResponse} of any response but a core JSON answer; `text` is the response's text, if any. */
async function writeOtherResponse(
  response: Response,
  outgoing: ServerResponse,
  text: unknown,
): Promise<void> {
  const status = response.status;
  const events = typeof text === 'string' ? undefined : takeEvents(response);
  // Reading `body` would make a stream of a core JSON answer or event stream: look at those first.
  const body = typeof text === 'string' || events ? null : response.body;
  // `Response.error()` (status 0) is a network error: there is nothing to send.
  if (status === 0) {
    body?.cancel().catch(noop);
    events?.cancel();
    outgoing.destroy();
    return;
  }
  const headers = outgoingHeaders(response.headers);
  const statusText = response.statusText || undefined;
  if (events) {
    if (outgoing.req?.method === 'HEAD' || outgoing.destroyed) {
      events.cancel();
      if (!outgoing.destroyed) outgoing.writeHead(status, statusText, headers).end();
      return;
    }
    return writeEvents(events, outgoing, status, statusText, headers);
  }
  if (
    body === null ||
    outgoing.req?.method === 'HEAD' ||
    status === 204 ||
    status === 304 ||
    status < 200 ||
    outgoing.destroyed
  ) {
    body?.cancel().catch(noop);
    if (!outgoing.destroyed) outgoing.writeHead(status, statusText, headers).end();
    return;
  }

  const reader = body.getReader();
  const onClose = () => {
    if (!outgoing.writableFinished) {
      reader.cancel(new DOMException('The client closed the connection.', 'AbortError')).catch(noop);
    }
  };
  outgoing.once('close', onClose);
  try {
    const contentType = headers['content-type'];
    if (typeof contentType === 'string' && contentType.startsWith('text/event-stream')) {
      outgoing.writeHead(status, statusText, headers);
      // The first event usually waits already (the core commits a stream at its first token): it
      // leaves with the headers in one write. Otherwise the headers go at once, alone.
      const pull = pullFrom(reader);
      const first = pull();
      if ((await settledSoon(first)) === NOT_READY) outgoing.flushHeaders();
      await pipeBody(pull, outgoing, first);
      return;
    }
    const first = await reader.read();
    if (outgoing.destroyed) return;
    if (first.done) {
      outgoing.writeHead(status, statusText, headers).end();
      return;
    }
    const pull = pullFrom(reader);
    const second = pull();
    const peeked = await settledSoon(second);
    if (peeked === undefined) {
      headers['content-length'] ??= first.value.byteLength;
      outgoing.writeHead(status, statusText, headers).end(first.value);
      return;
    }
    outgoing.writeHead(status, statusText, headers);
    if (!outgoing.write(first.value)) await drained(outgoing);
    await pipeBody(pull, outgoing, second);
  } catch {
    // The body failed (or a write threw). Before the head: answer 500; after: cut the connection.
    reader.cancel().catch(noop);
    if (outgoing.headersSent || outgoing.destroyed) {
      cutResponse(outgoing);
    } else {
      const message = JSON.stringify({
        error: {
          message: 'The response body failed.',
          type: 'server_error',
          code: 'internal_error',
          param: null,
        },
      });
      const requestId = headers['x-request-id'];
      outgoing
        .writeHead(500, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(message),
          ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
        })
        .end(message);
    }
  } finally {
    outgoing.off('close', onClose);
  }
}
