import { LazyBodyResponse } from './lazy-body-response.js';

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
export class JsonTextResponse extends LazyBodyResponse {
  readonly #text: string;
  readonly #init: ResponseInit;

  constructor(text: string, init: ResponseInit) {
    super(init);
    this.#text = text;
    this.#init = init;
  }

  /** The JSON text, while no stream has been made of it. */
  get [RESPONSE_TEXT](): string | undefined {
    return this.materialized ? undefined : this.#text;
  }

  protected makeBody(): string {
    return this.#text;
  }

  override clone(): Response {
    if (this.bodyUsed) return this.materialize().clone();
    return new JsonTextResponse(this.#text, { ...this.#init, headers: this.headers });
  }
}
