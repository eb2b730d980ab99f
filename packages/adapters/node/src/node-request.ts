import type { IncomingMessage } from 'node:http';
import { readRequestBytes } from './read-request-bytes.js';
import { streamRequestBody } from './stream-request-body.js';

/** The core reads a body here, when offered, instead of through a Web stream (see the core's `readJsonBody`). */
export const REQUEST_BYTES = Symbol.for('@fusionkit/request-bytes');

export type RequestInitWithDuplex = RequestInit & { duplex?: 'half' };

/**
 * A `Request` whose `signal` is the adapter's own. Passing `signal` to the constructor instead makes
 * undici link a second signal to it (WeakRef, FinalizationRegistry, listener bookkeeping), which
 * measured as about a third of the adapter's CPU per request. `clone()` keeps this signal;
 * `new Request(request)` gets undici's internal one, which never aborts.
 */
export class NodeRequest extends Request {
  readonly #signal: AbortSignal;

  constructor(input: string | Request, init: RequestInitWithDuplex, signal: AbortSignal) {
    super(input, init);
    this.#signal = signal;
  }

  override get signal(): AbortSignal {
    return this.#signal;
  }

  override clone(): Request {
    return new NodeRequest(super.clone(), {}, this.#signal);
  }
}

/** Where a {@link LazyBodyRequest} reads its body from. */
export interface SocketBody {
  incoming: IncomingMessage;
  limit: number;
  /** Called when the body passes the limit (the connection must then close after the answer). */
  onTooLarge: () => void;
}

/**
 * A {@link NodeRequest} whose body stays on the socket until someone reads it. The core takes it as
 * bytes ({@link REQUEST_BYTES}), with no Web stream at all; any other reader (`body`, `json()`,
 * `formData()`, `clone()`…) gets a request whose body streams from the socket, as with a plain
 * `NodeRequest`.
 */
export class LazyBodyRequest extends NodeRequest {
  readonly #url: string;
  readonly #init: RequestInitWithDuplex;
  #source: SocketBody | undefined;
  #full: Request | undefined;
  #taken = false;

  constructor(url: string, init: RequestInitWithDuplex, signal: AbortSignal, source: SocketBody) {
    super(url, init, signal);
    this.#url = url;
    this.#init = init;
    this.#source = source;
  }

  [REQUEST_BYTES](limit: number): Promise<Uint8Array> {
    const source = this.#source;
    if (!source || this.#taken) return Promise.reject(new TypeError('The request body was already read.'));
    this.#taken = true;
    this.#source = undefined;
    return readRequestBytes(source.incoming, Math.min(limit, source.limit), source.onTooLarge);
  }

  #materialize(): Request {
    if (this.#full) return this.#full;
    const source = this.#source;
    if (this.#taken || !source) throw new TypeError('The request body was already read.');
    this.#source = undefined;
    const body = streamRequestBody(source.incoming, source.limit, source.onTooLarge);
    this.#full = new NodeRequest(this.#url, { ...this.#init, body, duplex: 'half' }, this.signal);
    return this.#full;
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#materialize().body;
  }

  override get bodyUsed(): boolean {
    return this.#taken || (this.#full?.bodyUsed ?? false);
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.#materialize().arrayBuffer();
  }

  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.#materialize().bytes();
  }

  override blob(): Promise<Blob> {
    return this.#materialize().blob();
  }

  override formData(): Promise<FormData> {
    return this.#materialize().formData();
  }

  override json(): Promise<unknown> {
    return this.#materialize().json();
  }

  override text(): Promise<string> {
    return this.#materialize().text();
  }

  override clone(): Request {
    return this.#materialize().clone();
  }
}
