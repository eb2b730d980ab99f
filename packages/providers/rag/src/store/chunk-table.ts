import { buildIdTable, findInIdTable, idTableFits } from '../util/id-table.js';
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
      : idTableFits(loaded.idTable, count)
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
    if (!this.#loaded) return -1;
    const removed = this.#removed;
    return findInIdTable(this.#slots, this.#loaded.ids, id, (position) => removed[position] === 0);
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
