import { buildIdTable, idTableFits } from '../util/id-table.js';
import type { StringColumn } from '../util/string-column.js';
import { LoadedOverlay } from './loaded-overlay.js';
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
export class ChunkTable extends LoadedOverlay<ChunkRecord> {
  readonly #loaded: LoadedChunks | undefined;

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
    super(
      loaded?.ids,
      !loaded
        ? new Int32Array(0)
        : idTableFits(loaded.idTable, count)
          ? loaded.idTable
          : buildIdTable(loaded.ids),
    );
    this.#loaded = loaded;
  }

  /** The id of the chunk at a position of the loaded snapshot (deleted since or not). */
  loadedId(position: number): string {
    return this.#loaded!.ids.at(position);
  }

  /** A new object each time it is asked for: do not keep it to mutate. */
  protected recordAt(position: number, id: string): ChunkRecord {
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
