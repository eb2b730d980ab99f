import type { FusionTrace } from '../spec/strategy/v1/fusion-trace.js';
import type { KeyvLike } from '../state/keyv-like.js';

export type { KeyvLike };

/** Where fused answers' traces are kept for `/api/fusion/traces/{id}`. */
export interface TraceStoreOptions {
  /** How long a trace stays, ms. @default 600000 (10 minutes) */
  ttlMs?: number;
  /** Traces kept in memory at most (the oldest go first). Ignored with a custom `keyv`. @default 1000 */
  maxEntries?: number;
  /** A Keyv of your own (Redis, SQLite) when several instances must resolve each other's traces. */
  keyv?: KeyvLike<FusionTrace>;
}

/** Traces of fused answers: in memory by default (bounded, expiring), or in a Keyv you give. */
export class TraceStore {
  readonly #keyv: KeyvLike<FusionTrace> | undefined;
  readonly #memory = new Map<string, { trace: FusionTrace; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(options: TraceStoreOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 600_000;
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#keyv = options.keyv;
  }

  async set(trace: FusionTrace): Promise<void> {
    if (this.#keyv) {
      await this.#keyv.set(trace.id, trace, this.#ttlMs);
      return;
    }
    this.#memory.delete(trace.id);
    this.#memory.set(trace.id, { trace, expiresAt: Date.now() + this.#ttlMs });
    // A Map iterates in insertion order: the first entries are the oldest.
    while (this.#memory.size > this.#maxEntries)
      this.#memory.delete(this.#memory.keys().next().value as string);
  }

  async get(id: string): Promise<FusionTrace | undefined> {
    if (this.#keyv) return (await this.#keyv.get(id)) ?? undefined;
    const entry = this.#memory.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#memory.delete(id);
      return undefined;
    }
    return entry.trace;
  }
}
