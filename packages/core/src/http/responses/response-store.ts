import type { KeyvLike } from '../../state/keyv-like.js';
import type { InputItem, ResponseObject } from './response-types.js';

/** Where stored responses (`store: true`, the default) are kept. */
export interface ResponseStoreOptions {
  /**
   * A Keyv of your own (SQLite, Redis) so that responses outlive the process and every instance
   * reads the others' (`previous_response_id`, `GET /v1/responses/{id}`). `fusion serve` passes its
   * state store. @default in memory
   */
  keyv?: KeyvLike<unknown>;
  /** How long a stored response stays, ms. @default 2_592_000_000 (30 days, as OpenAI keeps them) */
  ttlMs?: number;
  /** Responses kept in memory at most (the oldest go first). Ignored with a `keyv`. @default 1000 */
  maxEntries?: number;
}

/** A stored response with what it was asked, for `previous_response_id` and `/input_items`. */
export interface StoredResponse {
  response: ResponseObject;
  /** The items of its own `input`, each with an `id`. */
  input: InputItem[];
  /** The items of the earlier responses it continues (their inputs and outputs), oldest first. */
  history: InputItem[];
  /** The job running it, for a `background` response. */
  jobId?: string;
  /** The id of the API key that created it: with keys on, only that key sees it. */
  owner?: string;
}

/** Stored responses: in memory by default (bounded, expiring), or in a Keyv you give. */
export class ResponseStore {
  readonly #keyv: KeyvLike<unknown> | undefined;
  readonly #memory = new Map<string, { record: StoredResponse; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(options: ResponseStoreOptions = {}) {
    this.#keyv = options.keyv;
    this.#ttlMs = options.ttlMs ?? 2_592_000_000;
    this.#maxEntries = options.maxEntries ?? 1000;
  }

  /** True when responses are kept in a store of the caller's (they may outlive the process). */
  get durable(): boolean {
    return this.#keyv !== undefined;
  }

  async set(record: StoredResponse): Promise<void> {
    const id = record.response.id;
    if (this.#keyv) {
      await this.#keyv.set(id, record, this.#ttlMs);
      return;
    }
    this.#memory.delete(id);
    // A copy: later changes of the caller's objects must not change what is stored.
    this.#memory.set(id, { record: structuredClone(record), expiresAt: Date.now() + this.#ttlMs });
    while (this.#memory.size > this.#maxEntries)
      this.#memory.delete(this.#memory.keys().next().value as string);
  }

  async get(id: string): Promise<StoredResponse | undefined> {
    if (this.#keyv) return ((await this.#keyv.get(id)) as StoredResponse | null | undefined) ?? undefined;
    const entry = this.#memory.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#memory.delete(id);
      return undefined;
    }
    return structuredClone(entry.record);
  }

  /** Forgets a response; `false` when there was none. */
  async delete(id: string): Promise<boolean> {
    if (this.#keyv) {
      if ((await this.#keyv.get(id)) == null) return false;
      await this.#keyv.delete?.(id);
      return true;
    }
    return this.#memory.delete(id);
  }
}
