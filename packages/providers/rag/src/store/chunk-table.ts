import type { StringColumn } from '../util/string-column.js';
import type { ChunkRecord } from './records.js';

/** The chunks of a loaded store snapshot, as the snapshot holds them: string columns and typed arrays. */
export interface LoadedChunks {
  ids: StringColumn;
  texts: StringColumn;
  /** Each chunk's metadata as JSON ('' for none). */
  metadata: StringColumn;
  /** Character offsets of each chunk in its document's text. */
  starts: Uint32Array;
  ends: Uint32Array;
  /** Document of each chunk: an index into `documentIds`. */
  documentOf: Uint32Array;
  documentIds: readonly string[];
  /** The id hash table as {@link buildIdTable} made it when the snapshot was written (absent: built here). */
  idTable?: Int32Array;
}

/**
 * An open-addressing hash table of ids (`column.hashAt`, linear probing): slot → position + 1, 0 for
 * empty, with a power-of-two length of at least twice the count. Saved with a snapshot, so a load
 * takes it as a view.
 */
export function buildIdTable(ids: StringColumn): Int32Array {
  const count = ids.length;
  let capacity = 16;
  while (capacity < count * 2) capacity *= 2;
  const slots = new Int32Array(count > 0 ? capacity : 0);
  const mask = capacity - 1;
  for (let position = 0; position < count; position++) {
    let slot = ids.hashAt(position) & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = position + 1;
  }
  return slots;
}

/** Whether a saved id table fits `count` ids (else it is rebuilt). */
function fits(table: Int32Array | undefined, count: number): table is Int32Array {
  if (!table) return false;
  const capacity = table.length;
  return count === 0 ? capacity === 0 : capacity >= count * 2 && (capacity & (capacity - 1)) === 0;
}

/**
 * The chunks of a collection by id. Those of the loaded snapshot stay in its buffers, found through an
 * open-addressing hash table of their ids (a typed array too), and become {@link ChunkRecord} objects
 * only when asked for: loading makes no per-chunk object, string or map entry. Chunks set since the
 * load (and those of older formats) are kept as records in a map.
 */
export class ChunkTable {
  readonly #loaded: LoadedChunks | undefined;
  /** Slot → loaded position + 1 (0: empty). */
  readonly #slots: Int32Array;
  /** Loaded chunks deleted or replaced since the load. */
  readonly #removed: Uint8Array;
  #removedCount = 0;
  readonly #added = new Map<string, ChunkRecord>();

  constructor(loaded?: LoadedChunks) {
    const count = loaded?.starts.length ?? 0;
    if (
      loaded &&
      (loaded.ids.length !== count ||
        loaded.texts.length !== count ||
        loaded.metadata.length !== count ||
        loaded.ends.length !== count ||
        loaded.documentOf.length !== count)
    ) {
      throw new Error('chunk table is corrupt');
    }
    this.#loaded = loaded;
    this.#removed = new Uint8Array(count);
    this.#slots = !loaded
      ? new Int32Array(0)
      : fits(loaded.idTable, count)
        ? loaded.idTable
        : buildIdTable(loaded.ids);
  }

  get size(): number {
    return (this.#loaded?.starts.length ?? 0) - this.#removedCount + this.#added.size;
  }

  has(id: string): boolean {
    return this.#added.has(id) || this.#positionOf(id) !== -1;
  }

  /** The chunk's record (a new object for a loaded chunk: do not keep it to mutate). */
  get(id: string): ChunkRecord | undefined {
    const added = this.#added.get(id);
    if (added) return added;
    const position = this.#positionOf(id);
    return position === -1 ? undefined : this.#recordAt(position, id);
  }

  set(id: string, chunk: ChunkRecord): void {
    this.#removeLoaded(id);
    this.#added.set(id, chunk);
  }

  delete(id: string): boolean {
    return this.#added.delete(id) || this.#removeLoaded(id);
  }

  /** The id of the chunk at a position of the loaded snapshot (deleted since or not). */
  loadedId(position: number): string {
    return this.#loaded!.ids.at(position);
  }

  #removeLoaded(id: string): boolean {
    const position = this.#positionOf(id);
    if (position === -1) return false;
    this.#removed[position] = 1;
    this.#removedCount++;
    return true;
  }

  /** The loaded, not removed position holding `id`, or -1. */
  #positionOf(id: string): number {
    const slots = this.#slots;
    if (slots.length === 0) return -1;
    const mask = slots.length - 1;
    const ids = this.#loaded!.ids;
    for (let slot = ids.hashOf(id) & mask; slots[slot] !== 0; slot = (slot + 1) & mask) {
      const position = slots[slot]! - 1;
      // A position out of range is a corrupt saved table: treated as a miss.
      if (position < ids.length && this.#removed[position] === 0 && ids.equalsAt(position, id))
        return position;
    }
    return -1;
  }

  #recordAt(position: number, id: string): ChunkRecord {
    const loaded = this.#loaded!;
    const metadata = loaded.metadata.at(position);
    return {
      id,
      documentId: loaded.documentIds[loaded.documentOf[position]!]!,
      text: loaded.texts.at(position),
      start: loaded.starts[position]!,
      end: loaded.ends[position]!,
      metadata: metadata ? (JSON.parse(metadata) as Record<string, unknown>) : {},
    };
  }
}
