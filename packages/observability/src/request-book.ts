import { type InFlightEntry, InFlightList } from '@fusionkit/core/internal';

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

interface Slot<TRecord> {
  record: TRecord;
  listed: InFlightEntry<string>;
}

/**
 * Open requests by id, bounded: entries are added on `request:start` and removed when the request
 * (or its stream) ends; should an end never come, the oldest are dropped past {@link MAX_OPEN}.
 *
 * The records are found through a dictionary object and kept in order in an {@link InFlightList},
 * not in a `Map`, for the reason given there (a long-lived collection that requests pass through).
 */
export class RequestBook<TRecord> {
  readonly #byId: Record<string, Slot<TRecord>> = Object.create(null);
  readonly #order = new InFlightList<string>();
  readonly #max: number;

  constructor(max = MAX_OPEN) {
    this.#max = max;
  }

  /** Opens the record of request `id`; one already open takes the new record and keeps its place. */
  open(id: string, record: TRecord): void {
    const slot = this.#byId[id];
    if (slot !== undefined) {
      slot.record = record;
      return;
    }
    if (this.#order.size >= this.#max) {
      const oldest = this.#order.oldest();
      if (oldest !== undefined) this.close(oldest);
    }
    this.#byId[id] = { record, listed: this.#order.add(id) };
  }

  /** Sets the record of a request already open, keeping its place in line. */
  replace(id: string, record: TRecord): void {
    const slot = this.#byId[id];
    if (slot !== undefined) slot.record = record;
  }

  get(id: string): TRecord | undefined {
    return this.#byId[id]?.record;
  }

  close(id: string): TRecord | undefined {
    const slot = this.#byId[id];
    if (slot === undefined) return undefined;
    delete this.#byId[id];
    this.#order.remove(slot.listed);
    return slot.record;
  }

  get size(): number {
    return this.#order.size;
  }
}
