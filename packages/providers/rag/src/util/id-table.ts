import type { StringColumn } from './string-column.js';

/**
 * An open-addressing hash table of ids (`column.hashAt`, linear probing): slot → position + 1, 0 for
 * empty, with a power-of-two length of at least twice the count. Saved with a file, so a load takes
 * it as a view. Positions `skip` accepts (e.g. deleted entries) are left out.
 */
export function buildIdTable(ids: StringColumn, skip?: (position: number) => boolean): Int32Array {
  const count = ids.length;
  let capacity = 16;
  while (capacity < count * 2) capacity *= 2;
  const slots = new Int32Array(count > 0 ? capacity : 0);
  const mask = capacity - 1;
  for (let position = 0; position < count; position++) {
    if (skip?.(position)) continue;
    let slot = ids.hashAt(position) & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = position + 1;
  }
  return slots;
}

/** Whether a saved id table fits `count` ids (else it is rebuilt). */
export function idTableFits(table: Int32Array | undefined, count: number): table is Int32Array {
  if (!table) return false;
  const capacity = table.length;
  return count === 0 ? capacity === 0 : capacity >= count * 2 && (capacity & (capacity - 1)) === 0;
}

/**
 * The position of `id` in `ids` through its table, among positions `live` accepts, or -1. A position
 * out of range (a corrupt saved table) is a miss.
 */
export function findInIdTable(
  table: Int32Array,
  ids: StringColumn,
  id: string,
  live: (position: number) => boolean,
): number {
  if (table.length === 0) return -1;
  const mask = table.length - 1;
  for (let slot = ids.hashOf(id) & mask; table[slot] !== 0; slot = (slot + 1) & mask) {
    const position = table[slot]! - 1;
    if (position < ids.length && live(position) && ids.equalsAt(position, id)) return position;
  }
  return -1;
}
