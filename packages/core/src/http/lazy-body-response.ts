import { lightHeadersOf } from './light-headers.js';

/**
 * A `Response` whose body is made only when someone reads it (`body`, `text()`, `json()`, …, or
 * `clone()`): until then a node adapter can take what the body is made from (a JSON text, a source
 * of events) under a symbol of the subclass's, and write it without a Web stream, which costs more
 * on Node 20 than the rest of a small answer. Everyone else sees an ordinary `Response`
 * (`instanceof Response` holds).
 *
 * It is not built by undici's constructor (a `Headers`, WebIDL conversions and internal state per
 * response, measured as a tenth of the gateway's own CPU per request): status and headers are its
 * own (the headers a {@link LightHeaders}), and a real `Response` is made once, when the body is read.
 */
export abstract class LazyBodyResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  #full: Response | undefined;

  constructor(init: ResponseInit) {
    const status = init.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`The status ${status} is not in the range 200 to 599.`);
    }
    this.status = status;
    this.statusText = init.statusText ?? '';
    this.headers = lightHeadersOf(init.headers);
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get type(): ResponseType {
    return 'default';
  }

  get url(): string {
    return '';
  }

  get redirected(): boolean {
    return false;
  }

  /** The body, made once, when the first reader asks for it. */
  protected abstract makeBody(): BodyInit | null;

  /** Whether a body stream was made (the subclass's symbol no longer offers its source then). */
  protected get materialized(): boolean {
    return this.#full !== undefined;
  }

  protected materialize(): Response {
    this.#full ??= new Response(this.makeBody(), {
      status: this.status,
      statusText: this.statusText,
      headers: [...this.headers],
    });
    return this.#full;
  }

  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.materialize().body;
  }

  get bodyUsed(): boolean {
    return this.#full?.bodyUsed ?? false;
  }

  text(): Promise<string> {
    return this.materialize().text();
  }

  json(): Promise<unknown> {
    return this.materialize().json();
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.materialize().arrayBuffer();
  }

  blob(): Promise<Blob> {
    return this.materialize().blob();
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.materialize().bytes();
  }

  formData(): Promise<FormData> {
    return this.materialize().formData();
  }

  clone(): Response {
    return this.materialize().clone();
  }
}

Object.setPrototypeOf(LazyBodyResponse.prototype, Response.prototype);
