import { findInIdTable } from '../util/id-table.js';
import type { StringColumn } from '../util/string-column.js';
import type { DocumentRecord } from './records.js';

/** The documents of a loaded store snapshot (version 5), as it holds them. */
export interface LoadedDocuments {
  ids: StringColumn;
  /** The id hash table (see `buildIdTable`). */
  idTable: Int32Array;
  /** Each document's record as JSON, without `chunkIds`. */
  records: StringColumn;
  /** A document's chunk ids, when first asked for: `position` is the document's in the snapshot. */
  chunkIdsOf(position: number): string[];
}

/**
 * The documents of a collection by id, with the part of a `Map` the collection uses. Those of the
 * loaded snapshot stay in its buffers, found through their saved id hash table, and become records
 * when asked for (a load parses no record); documents set since are kept in a map.
 */
export class DocumentTable {
  readonly #loaded: LoadedDocuments | undefined;
  /** Loaded documents deleted or replaced since the load. */
  readonly #removed: Uint8Array;
  #removedCount = 0;
  /** Loaded documents made records, by position (the same record each time it is asked for). */
  readonly #made = new Map<number, DocumentRecord>();
  readonly #added = new Map<string, DocumentRecord>();

  constructor(loaded?: LoadedDocuments) {
    this.#loaded = loaded;
    this.#removed = new Uint8Array(loaded?.ids.length ?? 0);
  }

  get size(): number {
    return (this.#loaded?.ids.length ?? 0) - this.#removedCount + this.#added.size;
  }

  has(id: string): boolean {
    return this.#added.has(id) || this.#positionOf(id) !== -1;
  }

  get(id: string): DocumentRecord | undefined {
    const added = this.#added.get(id);
    if (added) return added;
    const position = this.#positionOf(id);
    return position === -1 ? undefined : this.#recordAt(position);
  }

  set(id: string, record: DocumentRecord): this {
    this.#removeLoaded(id);
    this.#added.set(id, record);
    return this;
  }

  delete(id: string): boolean {
    return this.#added.delete(id) || this.#removeLoaded(id);
  }

  *keys(): IterableIterator<string> {
    const loaded = this.#loaded;
    if (loaded) {
      for (let position = 0; position < loaded.ids.length; position++)
        if (this.#removed[position] === 0) yield loaded.ids.at(position);
    }
    yield* this.#added.keys();
  }

  *values(): IterableIterator<DocumentRecord> {
    const loaded = this.#loaded;
    if (loaded) {
      for (let position = 0; position < loaded.ids.length; position++)
        if (this.#removed[position] === 0) yield this.#recordAt(position);
    }
    yield* this.#added.values();
  }

  #removeLoaded(id: string): boolean {
    const position = this.#positionOf(id);
    if (position === -1) return false;
    this.#removed[position] = 1;
    this.#removedCount++;
    this.#made.delete(position);
    return true;
  }

  #positionOf(id: string): number {
    const loaded = this.#loaded;
    if (!loaded) return -1;
    const removed = this.#removed;
    return findInIdTable(loaded.idTable, loaded.ids, id, (position) => removed[position] === 0);
  }

  #recordAt(position: number): DocumentRecord {
    let record = this.#made.get(position);
    if (record) return record;
    const loaded = this.#loaded!;
    const stored = JSON.parse(loaded.records.at(position)) as Omit<DocumentRecord, 'chunkIds'>;
    record = withLazyChunkIds(stored, () => loaded.chunkIdsOf(position));
    this.#made.set(position, record);
    return record;
  }
}

/**
 * A document record whose `chunkIds` are made when first asked for (a spread or JSON of the record
 * reads them too): a load makes no array of ids per document.
 */
export function withLazyChunkIds(
  record: Omit<DocumentRecord, 'chunkIds'>,
  chunkIds: () => string[],
): DocumentRecord {
  const settle = (target: object, value: string[]) =>
    Object.defineProperty(target, 'chunkIds', {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  Object.defineProperty(record, 'chunkIds', {
    enumerable: true,
    configurable: true,
    get(this: DocumentRecord) {
      const ids = chunkIds();
      settle(this, ids);
      return ids;
    },
    set(this: DocumentRecord, value: string[]) {
      settle(this, value);
    },
  });
  return record as DocumentRecord;
}
