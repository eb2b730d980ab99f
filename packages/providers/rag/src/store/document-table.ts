import type { StringColumn } from '../util/string-column.js';
import { LoadedOverlay } from './loaded-overlay.js';
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
export class DocumentTable extends LoadedOverlay<DocumentRecord> {
  readonly #loaded: LoadedDocuments | undefined;
  /** Loaded documents made records, by position (the same record each time it is asked for). */
  readonly #made = new Map<number, DocumentRecord>();

  constructor(loaded?: LoadedDocuments) {
    super(loaded?.ids, loaded?.idTable ?? new Int32Array(0));
    this.#loaded = loaded;
  }

  *keys(): IterableIterator<string> {
    const loaded = this.#loaded;
    if (loaded) for (const position of this.livePositions()) yield loaded.ids.at(position);
    yield* this.added.keys();
  }

  *values(): IterableIterator<DocumentRecord> {
    for (const position of this.livePositions()) yield this.recordAt(position);
    yield* this.added.values();
  }

  protected override onRemoved(position: number): void {
    this.#made.delete(position);
  }

  /** The same record each time it is asked for. */
  protected recordAt(position: number): DocumentRecord {
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
