import { buildIdTable, findInIdTable, idTableFits } from './id-table.js';
import { ByteStrings, type StringColumn } from './string-column.js';
import { packBytes } from './string-table.js';

/** The ids of a file's slots as it holds them: UTF-8 bytes with offsets, and their hash table. */
export interface StoredSlotIds {
  offsets: Uint32Array;
  data: Uint8Array;
  /** 1 where the slot was empty. */
  empty: Uint8Array;
  /** From {@link buildIdTable} (rebuilt when absent or not fitting). */
  table?: Int32Array;
}

/**
 * The ids of an index's slots, both ways (slot → id, id → slot). The ids of a loaded file stay in its
 * bytes, found through the hash table saved with them: a load makes no string or map entry per id,
 * and writes need nothing built first. Ids set since the load are kept in a map and an array.
 */
export class SlotIds {
  readonly #column: StringColumn | undefined;
  readonly #table: Int32Array;
  readonly #loaded: number;
  /** Loaded slots that no longer hold their loaded id (emptied or given another). */
  readonly #changed: Uint8Array;
  /** What changed loaded slots hold now (absent: empty). */
  readonly #changedIds = new Map<number, string>();
  /** Ids of the slots after the loaded ones (`undefined`: empty). */
  readonly #added: (string | undefined)[] = [];
  /** Slots of the ids set since the load. */
  readonly #slotOf = new Map<string, number>();

  constructor(stored?: StoredSlotIds) {
    if (!stored) {
      this.#loaded = 0;
      this.#changed = new Uint8Array(0);
      this.#table = new Int32Array(0);
      return;
    }
    const column = new ByteStrings(stored.offsets, stored.data);
    if (stored.empty.length !== column.length) throw new Error('slot ids are corrupt');
    this.#column = column;
    this.#loaded = column.length;
    this.#changed = stored.empty.slice();
    const changed = this.#changed;
    this.#table = idTableFits(stored.table, column.length)
      ? stored.table
      : buildIdTable(column, (slot) => changed[slot] === 1);
  }

  /** Encodes `ids` (by slot; `undefined` or `null` for an empty slot) as a file stores them. */
  static store(ids: readonly (string | null | undefined)[]): Required<StoredSlotIds> {
    const { offsets, data } = packBytes(ids.map((id) => id ?? ''));
    const empty = Uint8Array.from(ids, (id) => (typeof id === 'string' ? 0 : 1));
    const table = buildIdTable(new ByteStrings(offsets, data), (slot) => empty[slot] === 1);
    return { offsets, data, empty, table };
  }

  /** Slots so far (empty ones included). */
  get length(): number {
    return this.#loaded + this.#added.length;
  }

  /** The id in `slot`, or `undefined` when it is empty. */
  at(slot: number): string | undefined {
    if (slot >= this.#loaded) return this.#added[slot - this.#loaded];
    if (this.#changed[slot] === 1) return this.#changedIds.get(slot);
    return this.#column!.at(slot);
  }

  /** The slot holding `id`, or `undefined`. */
  slotOf(id: string): number | undefined {
    const slot = this.#slotOf.get(id);
    if (slot !== undefined) return slot;
    if (!this.#column) return undefined;
    const changed = this.#changed;
    const position = findInIdTable(this.#table, this.#column, id, (loaded) => changed[loaded] === 0);
    return position === -1 ? undefined : position;
  }

  /** Puts `id` in `slot` (an empty one, or the next one). */
  set(slot: number, id: string): void {
    if (slot < this.#loaded) {
      this.#changed[slot] = 1;
      this.#changedIds.set(slot, id);
    } else {
      this.#added[slot - this.#loaded] = id;
    }
    this.#slotOf.set(id, slot);
  }

  /** Empties the slot holding `id`; returns it, or `undefined` when no slot holds `id`. */
  delete(id: string): number | undefined {
    const slot = this.slotOf(id);
    if (slot === undefined) return undefined;
    this.#slotOf.delete(id);
    if (slot < this.#loaded) {
      this.#changed[slot] = 1;
      this.#changedIds.delete(slot);
    } else {
      this.#added[slot - this.#loaded] = undefined;
    }
    return slot;
  }
}
