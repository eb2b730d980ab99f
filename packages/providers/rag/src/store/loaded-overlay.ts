import { findInIdTable } from '../util/id-table.js';
import type { StringColumn } from '../util/string-column.js';

/**
 * Records by id over a loaded snapshot. Those of the snapshot stay in its columns, found through its
 * id hash table, and become records only when asked for ({@link LoadedOverlay.recordAt}); deletes and
 * replacements of loaded records are a bitmap; records set since the load are kept in a map. The
 * chunk and document tables of a collection are this with their own columns.
 */
export abstract class LoadedOverlay<TRecord> {
  readonly #ids: StringColumn | undefined;
  /** Slot → loaded position + 1 (0: empty); see `buildIdTable`. */
  readonly #slots: Int32Array;
  /** Loaded records deleted or replaced since the load. */
  readonly #removed: Uint8Array;
  #removedCount = 0;
  readonly #added = new Map<string, TRecord>();

  constructor(ids: StringColumn | undefined, slots: Int32Array) {
    this.#ids = ids;
    this.#slots = slots;
    this.#removed = new Uint8Array(ids?.length ?? 0);
  }

  get size(): number {
    return (this.#ids?.length ?? 0) - this.#removedCount + this.#added.size;
  }

  has(id: string): boolean {
    return this.#added.has(id) || this.#positionOf(id) !== -1;
  }

  get(id: string): TRecord | undefined {
    const added = this.#added.get(id);
    if (added) return added;
    const position = this.#positionOf(id);
    return position === -1 ? undefined : this.recordAt(position, id);
  }

  set(id: string, record: TRecord): this {
    this.#removeLoaded(id);
    this.#added.set(id, record);
    return this;
  }

  delete(id: string): boolean {
    return this.#added.delete(id) || this.#removeLoaded(id);
  }

  /** The records set since the load. */
  protected get added(): ReadonlyMap<string, TRecord> {
    return this.#added;
  }

  /** The loaded positions neither deleted nor replaced, in order. */
  protected *livePositions(): IterableIterator<number> {
    const count = this.#ids?.length ?? 0;
    for (let position = 0; position < count; position++) if (this.#removed[position] === 0) yield position;
  }

  /** The record of the loaded record at `position`, whose id is `id`. */
  protected abstract recordAt(position: number, id: string): TRecord;

  /** Called when the loaded record at `position` is deleted or replaced. */
  protected onRemoved(_position: number): void {}

  #removeLoaded(id: string): boolean {
    const position = this.#positionOf(id);
    if (position === -1) return false;
    this.#removed[position] = 1;
    this.#removedCount++;
    this.onRemoved(position);
    return true;
  }

  /** The loaded, not removed position holding `id`, or -1. */
  #positionOf(id: string): number {
    const ids = this.#ids;
    if (!ids) return -1;
    const removed = this.#removed;
    return findInIdTable(this.#slots, ids, id, (position) => removed[position] === 0);
  }
}
