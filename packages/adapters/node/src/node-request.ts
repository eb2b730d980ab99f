import type { IncomingMessage } from 'node:http';
import { ABORT_SCOPE, type AbortScope, LightHeaders } from '@fusionkit/core/internal';
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
  readonly #scope: AbortScope;

  constructor(input: string | Request, init: RequestInitWithDuplex, scope: AbortScope) {
    super(input, init);
    this.#scope = scope;
  }

  override get signal(): AbortSignal {
    return this.#scope.signal;
  }

  /** The scope the core follows without making the signal. */
  get [ABORT_SCOPE](): AbortScope {
    return this.#scope;
  }

  override clone(): Request {
    return new NodeRequest(super.clone(), {}, this.#scope);
  }
}

/** Where a {@link LazyBodyRequest} reads its body from. */
export interface SocketBody {
  incoming: IncomingMessage;
  limit: number;
  /** Called when the body passes the limit (the connection must then close after the answer). */
  onTooLarge: () => void;
}

const MATERIALIZE = Symbol('materialize');

/**
 * A `Request` made on demand. It answers `method`, `url`, `headers` and `signal` itself, and hands
 * its body over as bytes ({@link REQUEST_BYTES}) straight from the socket: that is all the core reads
 * of most requests, and building a real `Request` (with its own signal and body stream) costs more
 * on Node 20 than the rest of the adapter. Anything else (`body`, `json()`, `formData()`, `clone()`,
 * `cache`…) builds the real {@link NodeRequest} once, with a body streaming from the socket, and
 * forwards to it. `instanceof Request` holds.
 */
export class LightRequest {
  readonly #method: string;
  readonly #url: string;
  readonly #rawHeaders: [string, string][];
  readonly #scope: AbortScope;
  #headers: Headers | undefined;
  #source: SocketBody | undefined;
  #taken = false;
  #full: Request | undefined;

  constructor(
    method: string,
    url: string,
    headers: [string, string][],
    scope: AbortScope,
    source?: SocketBody,
  ) {
    this.#method = method;
    this.#url = url;
    this.#rawHeaders = headers;
    this.#scope = scope;
    this.#source = source;
  }

  get method(): string {
    return this.#method;
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    // The node:http parser checked them already: no second validation, no undici `Headers`.
    this.#headers ??= new LightHeaders(this.#rawHeaders, true) as unknown as Headers;
    return this.#headers;
  }

  get signal(): AbortSignal {
    return this.#scope.signal;
  }

  /** The scope the core follows without making the signal (see `request.signal`). */
  get [ABORT_SCOPE](): AbortScope {
    return this.#scope;
  }

  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this[MATERIALIZE]().body;
  }

  get bodyUsed(): boolean {
    return this.#taken || (this.#full?.bodyUsed ?? false);
  }

  [REQUEST_BYTES](limit: number): Promise<Uint8Array> {
    const source = this.#source;
    if (!source || this.#taken || this.#full) {
      return Promise.reject(new TypeError('The request body was already read.'));
    }
    this.#taken = true;
    this.#source = undefined;
    return readRequestBytes(source.incoming, Math.min(limit, source.limit), source.onTooLarge);
  }

  /** The real request, built once. */
  [MATERIALIZE](): Request {
    if (this.#full) return this.#full;
    if (this.#taken) throw new TypeError('The request body was already read.');
    const init: RequestInitWithDuplex = {
      method: this.#method,
      headers: this.#headers ? [...this.#headers] : this.#rawHeaders,
    };
    const source = this.#source;
    if (source) {
      this.#source = undefined;
      init.body = streamRequestBody(source.incoming, source.limit, source.onTooLarge);
      init.duplex = 'half';
    }
    this.#full = new NodeRequest(this.#url, init, this.#scope);
    return this.#full;
  }
}

Object.setPrototypeOf(LightRequest.prototype, Request.prototype);
// Everything else a Request has forwards to the real one (its getters and methods check that
// `this` is a real Request, so they cannot run on the light one).
for (const key of Reflect.ownKeys(Request.prototype)) {
  if (key === 'constructor' || Object.hasOwn(LightRequest.prototype, key)) continue;
  const descriptor = Object.getOwnPropertyDescriptor(Request.prototype, key)!;
  if (typeof descriptor.value === 'function') {
    Object.defineProperty(LightRequest.prototype, key, {
      configurable: true,
      writable: true,
      value(this: LightRequest, ...args: unknown[]) {
        const real = this[MATERIALIZE]() as unknown as Record<PropertyKey, (...args: unknown[]) => unknown>;
        return real[key]!(...args);
      },
    });
  } else if (descriptor.get) {
    Object.defineProperty(LightRequest.prototype, key, {
      configurable: true,
      get(this: LightRequest) {
        return (this[MATERIALIZE]() as unknown as Record<PropertyKey, unknown>)[key];
      },
    });
  }
}
