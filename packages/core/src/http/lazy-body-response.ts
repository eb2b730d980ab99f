/**
 * A `Response` whose body is made only when someone reads it (`body`, `text()`, `json()`, …, or
 * `clone()`): until then a node adapter can take what the body is made from (a JSON text, a source
 * of events) under a symbol of the subclass's, and write it without a Web stream, which costs more
 * on Node 20 than the rest of a small answer. Everyone else sees an ordinary `Response`.
 */
export abstract class LazyBodyResponse extends Response {
  #full: Response | undefined;

  constructor(init: ResponseInit) {
    super(null, init);
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
      headers: this.headers,
    });
    return this.#full;
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.materialize().body;
  }

  override get bodyUsed(): boolean {
    return this.#full?.bodyUsed ?? false;
  }

  override text(): Promise<string> {
    return this.materialize().text();
  }

  override json(): Promise<unknown> {
    return this.materialize().json();
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.materialize().arrayBuffer();
  }

  override blob(): Promise<Blob> {
    return this.materialize().blob();
  }

  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.materialize().bytes();
  }

  override formData(): Promise<FormData> {
    return this.materialize().formData();
  }

  override clone(): Response {
    return this.materialize().clone();
  }
}
