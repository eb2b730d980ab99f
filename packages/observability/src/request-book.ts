/** What the subscribers learn about one client request from the events that carry its id. */
export interface RequestRecord {
  /** `performance.now()` when `request:start` arrived. */
  startedAt: number;
  /** The model the client asked for: the pipeline's name, else the first model called. */
  model?: string;
  /** Whether the answer is a stream that is still being written after `request:end`. */
  streaming?: boolean;
}

/** Requests followed at once before the oldest are forgotten (a guard against lost end events). */
const MAX_OPEN = 10_000;

/**
 * Open requests by id, bounded: entries are added on `request:start` and removed when the request
 * (or its stream) ends; should an end never come, the oldest are dropped past {@link MAX_OPEN}.
 */
export class RequestBook<TRecord> {
  readonly #open = new Map<string, TRecord>();
  readonly #max: number;

  constructor(max = MAX_OPEN) {
    this.#max = max;
  }

  open(id: string, record: TRecord): void {
    if (this.#open.size >= this.#max) {
      const oldest = this.#open.keys().next().value;
      if (oldest !== undefined) this.#open.delete(oldest);
    }
    this.#open.set(id, record);
  }

  /** Sets the record of a request already open, keeping its place in line. */
  replace(id: string, record: TRecord): void {
    if (this.#open.has(id)) this.#open.set(id, record);
  }

  get(id: string): TRecord | undefined {
    return this.#open.get(id);
  }

  close(id: string): TRecord | undefined {
    const record = this.#open.get(id);
    if (record !== undefined) this.#open.delete(id);
    return record;
  }

  get size(): number {
    return this.#open.size;
  }
}
