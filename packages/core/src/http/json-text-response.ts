/**
 * Where a core JSON response keeps its text. Node adapters read it to write the answer in one
 * piece, without creating and draining a body stream (which costs more than the rest of a small
 * answer on Node 20). Anyone else sees an ordinary `Response`.
 */
export const RESPONSE_TEXT = Symbol.for('@fusionkit/response-text');

/**
 * A `Response` whose JSON text is built before its body stream, which is only created when someone
 * reads `body`, `text()`, `json()` (or clones it). Behaves as `new Response(text, init)` for every
 * reader.
 */
export class JsonTextResponse extends Response {
  readonly #text: string;
  readonly #init: ResponseInit;
  #full: Response | undefined;

  constructor(text: string, init: ResponseInit) {
    super(null, init);
    this.#text = text;
    this.#init = init;
  }

  /** The JSON text, while no stream has been made of it. */
  get [RESPONSE_TEXT](): string | undefined {
    return this.#full ? undefined : this.#text;
  }

  #materialize(): Response {
    this.#full ??= new Response(this.#text, {
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
    if (this.bodyUsed) return this.#materialize().clone();
    return new JsonTextResponse(this.#text, { ...this.#init, headers: new Headers(this.headers) });
  }
}
