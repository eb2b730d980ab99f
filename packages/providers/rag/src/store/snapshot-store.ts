import { type BinaryFile, decodeBinaryFile, encodeBinaryFile } from '../util/binary-file.js';
import { buildIdTable } from '../util/id-table.js';
import { readWholeFile } from '../util/read-whole-file.js';
import { ByteStrings, PieceStrings, type StringColumn } from '../util/string-column.js';
import { decodePieces, packBytes } from '../util/string-table.js';
import { ChunkTable } from './chunk-table.js';
import type { ChunkRecord, DocumentRecord } from './records.js';

const MAGIC = 'FKST';

/** A document in the snapshot header: its record without chunk ids (they follow from `chunks`). */
type StoredDocument = Omit<DocumentRecord, 'chunkIds'> & { chunks: number };

interface StoreHeader {
  /** 3: ids, texts and metadata interleaved as packed strings; 4: each its own column of UTF-8 bytes. */
  version: 3 | 4;
  generation: number;
  documents: StoredDocument[];
}

/**
 * Encodes the documents and chunks of a collection as a binary snapshot (version 4): document records
 * in a JSON header, and per chunk (in document order) its id, text and metadata JSON in three columns
 * of UTF-8 bytes with their byte offsets, plus its offsets in the document as u32 arrays. Loading it
 * is one read and views on the buffer: a chunk's strings are decoded when it is asked for.
 */
export function encodeStoreSnapshot(
  generation: number,
  documents: Iterable<DocumentRecord>,
  chunkOf: (id: string) => ChunkRecord,
): Uint8Array[] {
  const stored: StoredDocument[] = [];
  const ids: string[] = [];
  const texts: string[] = [];
  const metadata: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (const { chunkIds, ...document } of documents) {
    stored.push({ ...document, chunks: chunkIds.length });
    for (const id of chunkIds) {
      const chunk = chunkOf(id);
      const hasMetadata = Object.keys(chunk.metadata).length > 0;
      ids.push(chunk.id);
      texts.push(chunk.text);
      metadata.push(hasMetadata ? JSON.stringify(chunk.metadata) : '');
      starts.push(chunk.start);
      ends.push(chunk.end);
    }
  }
  const columns = { id: packBytes(ids), text: packBytes(texts), metadata: packBytes(metadata) };
  const idTable = buildIdTable(new ByteStrings(columns.id.offsets, columns.id.data));
  const header: StoreHeader = { version: 4, generation, documents: stored };
  return encodeBinaryFile(
    MAGIC,
    { ...header },
    {
      idOffsets: columns.id.offsets,
      idData: columns.id.data,
      textOffsets: columns.text.offsets,
      textData: columns.text.data,
      metadataOffsets: columns.metadata.offsets,
      metadataData: columns.metadata.data,
      starts: Uint32Array.from(starts),
      ends: Uint32Array.from(ends),
      idTable: new Uint32Array(idTable.buffer, idTable.byteOffset, idTable.length),
    },
  );
}

/** The string columns of a snapshot: version 4's byte columns, or version 3's interleaved packed strings. */
function columnsOf(file: BinaryFile<StoreHeader>, count: number): [StringColumn, StringColumn, StringColumn] {
  if (file.header.version === 4) {
    const column = (name: string) =>
      new ByteStrings(file.uint32(`${name}Offsets`), file.bytes(`${name}Data`));
    return [column('id'), column('text'), column('metadata')];
  }
  const packed = { lengths: file.uint32('lengths'), pieces: file.uint32('pieces'), data: file.bytes('data') };
  if (packed.lengths.length !== count * 3) throw new Error('packed strings are corrupt');
  const { pieces, pieceStarts } = decodePieces(packed);
  const [ids, texts, metadata] = PieceStrings.columns(pieces, pieceStarts, packed.lengths, 3);
  return [ids!, texts!, metadata!];
}

/**
 * A document record whose `chunkIds` are read from the chunk table when first asked for (a spread or
 * JSON of the record reads them too): a load makes no array of ids per document.
 */
function withLazyChunkIds(
  record: Omit<DocumentRecord, 'chunkIds'>,
  table: ChunkTable,
  first: number,
  count: number,
) {
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
      const ids = new Array<string>(count);
      for (let index = 0; index < count; index++) ids[index] = table.loadedId(first + index);
      settle(this, ids);
      return ids;
    },
    set(this: DocumentRecord, value: string[]) {
      settle(this, value);
    },
  });
  return record as DocumentRecord;
}

/**
 * Reads a snapshot written by {@link encodeStoreSnapshot}: its documents, and its chunks as a
 * {@link ChunkTable} over the decoded strings (no record per chunk until one is asked for).
 */
export async function readStoreSnapshot(
  path: string,
): Promise<{ documents: Map<string, DocumentRecord>; chunks: ChunkTable }> {
  const file = decodeBinaryFile<StoreHeader>(MAGIC, await readWholeFile(path));
  if (file.header.version !== 3 && file.header.version !== 4)
    throw new Error(`unsupported store snapshot version ${String(file.header.version)}`);
  const starts = file.uint32('starts');
  const ends = file.uint32('ends');
  const count = starts.length;
  let columns: [StringColumn, StringColumn, StringColumn];
  try {
    columns = columnsOf(file, count);
  } catch (error) {
    throw new Error(`${path} is corrupt: ${(error as Error).message}`);
  }
  const documentOf = new Uint32Array(count);
  const documentIds: string[] = [];
  let next = 0;
  for (const stored of file.header.documents) {
    if (next + stored.chunks > count) throw new Error(`${path} is corrupt`);
    documentOf.fill(documentIds.length, next, next + stored.chunks);
    documentIds.push(stored.id);
    next += stored.chunks;
  }
  if (next !== count) throw new Error(`${path} is corrupt`);
  let table: ChunkTable;
  try {
    const [ids, texts, metadata] = columns;
    const saved = file.header.version === 4 ? file.uint32('idTable') : undefined;
    const idTable = saved && new Int32Array(saved.buffer, saved.byteOffset, saved.length);
    table = new ChunkTable({
      ids,
      texts,
      metadata,
      starts,
      ends,
      documentOf,
      documentIds,
      ...(idTable ? { idTable } : {}),
    });
  } catch (error) {
    throw new Error(`${path} is corrupt: ${(error as Error).message}`);
  }
  const documents = new Map<string, DocumentRecord>();
  next = 0;
  for (const { chunks: chunkCount, ...stored } of file.header.documents) {
    documents.set(stored.id, withLazyChunkIds(stored, table, next, chunkCount));
    next += chunkCount;
  }
  return { documents, chunks: table };
}
