import { type BinaryFile, decodeBinaryFile, encodeBinaryFile } from '../util/binary-file.js';
import { buildIdTable, idTableFits } from '../util/id-table.js';
import { readWholeFile } from '../util/read-whole-file.js';
import { ByteStrings, PieceStrings, type StringColumn } from '../util/string-column.js';
import { decodePieces, packBytes } from '../util/string-table.js';
import { ChunkTable } from './chunk-table.js';
import { DocumentTable, withLazyChunkIds } from './document-table.js';
import type { ChunkRecord, DocumentRecord } from './records.js';

const MAGIC = 'FKST';

/** A document in the snapshot header: its record without chunk ids (they follow from `chunks`). */
type StoredDocument = Omit<DocumentRecord, 'chunkIds'> & { chunks: number };

interface StoreHeader {
  /**
   * 3: ids, texts and metadata interleaved as packed strings; 4: each its own column of UTF-8 bytes;
   * 5: the documents too (ids, record JSON and chunk counts as columns, not in this header).
   */
  version: 3 | 4 | 5;
  generation: number;
  /** Versions 3 and 4. */
  documents?: StoredDocument[];
}

/**
 * Encodes the documents and chunks of a collection as a binary snapshot (version 5): per document its
 * id, its record as JSON (without chunk ids) and its chunk count; per chunk (in document order) its
 * id, text and metadata JSON; strings as columns of UTF-8 bytes with their byte offsets, ids with
 * their hash tables. Loading it is one read and views on the buffer: a document's or chunk's strings
 * are decoded when it is asked for.
 */
export function encodeStoreSnapshot(
  generation: number,
  documents: Iterable<DocumentRecord>,
  chunkOf: (id: string) => ChunkRecord,
): Uint8Array[] {
  const documentIds: string[] = [];
  const records: string[] = [];
  const chunkCounts: number[] = [];
  const ids: string[] = [];
  const texts: string[] = [];
  const metadata: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (const { chunkIds, ...document } of documents) {
    documentIds.push(document.id);
    records.push(JSON.stringify(document));
    chunkCounts.push(chunkIds.length);
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
  const document = { id: packBytes(documentIds), record: packBytes(records) };
  const documentIdTable = buildIdTable(new ByteStrings(document.id.offsets, document.id.data));
  const header: StoreHeader = { version: 5, generation };
  return encodeBinaryFile(
    MAGIC,
    { ...header },
    {
      documentIdOffsets: document.id.offsets,
      documentIdData: document.id.data,
      documentIdTable: new Uint32Array(
        documentIdTable.buffer,
        documentIdTable.byteOffset,
        documentIdTable.length,
      ),
      documentOffsets: document.record.offsets,
      documentData: document.record.data,
      documentChunks: Uint32Array.from(chunkCounts),
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
  if (file.header.version !== 3) {
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
 * Reads a snapshot written by {@link encodeStoreSnapshot}: its documents, and its chunks as a
 * {@link ChunkTable} over the decoded strings (no record per chunk until one is asked for).
 */
export async function readStoreSnapshot(
  path: string,
): Promise<{ documents: DocumentTable; chunks: ChunkTable }> {
  const file = decodeBinaryFile<StoreHeader>(MAGIC, await readWholeFile(path));
  const { version } = file.header;
  if (version !== 3 && version !== 4 && version !== 5)
    throw new Error(`unsupported store snapshot version ${String(version)}`);
  try {
    return version === 5 ? readVersion5(file) : readVersion3or4(file);
  } catch (error) {
    throw new Error(`${path} is corrupt: ${(error as Error).message}`);
  }
}

/** The chunk table of a snapshot whose documents own `chunkCounts` chunks each, in order. */
function chunkTableOf(file: BinaryFile<StoreHeader>, chunkCounts: ArrayLike<number>, documentIds: string[]) {
  const starts = file.uint32('starts');
  const count = starts.length;
  const documentOf = new Uint32Array(count);
  let next = 0;
  for (let document = 0; document < chunkCounts.length; document++) {
    const chunks = chunkCounts[document]!;
    if (next + chunks > count) throw new Error('documents own more chunks than it holds');
    documentOf.fill(document, next, next + chunks);
    next += chunks;
  }
  if (next !== count) throw new Error('documents own fewer chunks than it holds');
  const [ids, texts, metadata] = columnsOf(file, count);
  const saved = file.header.version !== 3 ? file.uint32('idTable') : undefined;
  const idTable = saved && new Int32Array(saved.buffer, saved.byteOffset, saved.length);
  return new ChunkTable({
    ids,
    texts,
    metadata,
    starts,
    ends: file.uint32('ends'),
    documentOf,
    documentIds,
    ...(idTable ? { idTable } : {}),
  });
}

function readVersion5(file: BinaryFile<StoreHeader>): { documents: DocumentTable; chunks: ChunkTable } {
  const ids = new ByteStrings(file.uint32('documentIdOffsets'), file.bytes('documentIdData'));
  const records = new ByteStrings(file.uint32('documentOffsets'), file.bytes('documentData'));
  const chunkCounts = file.uint32('documentChunks');
  if (records.length !== ids.length || chunkCounts.length !== ids.length)
    throw new Error('document columns differ in length');
  const documentIds = new Array<string>(ids.length);
  const firstChunks = new Uint32Array(ids.length);
  let next = 0;
  for (let document = 0; document < ids.length; document++) {
    documentIds[document] = ids.at(document);
    firstChunks[document] = next;
    next += chunkCounts[document]!;
  }
  const chunks = chunkTableOf(file, chunkCounts, documentIds);
  const saved = file.uint32('documentIdTable');
  const idTable = new Int32Array(saved.buffer, saved.byteOffset, saved.length);
  const documents = new DocumentTable({
    ids,
    idTable: idTableFits(idTable, ids.length) ? idTable : buildIdTable(ids),
    records,
    chunkIdsOf: (document) => {
      const chunkIds = new Array<string>(chunkCounts[document]!);
      for (let index = 0; index < chunkIds.length; index++)
        chunkIds[index] = chunks.loadedId(firstChunks[document]! + index);
      return chunkIds;
    },
  });
  return { documents, chunks };
}

function readVersion3or4(file: BinaryFile<StoreHeader>): { documents: DocumentTable; chunks: ChunkTable } {
  const stored = file.header.documents ?? [];
  const chunks = chunkTableOf(
    file,
    stored.map((document) => document.chunks),
    stored.map((document) => document.id),
  );
  const documents = new DocumentTable();
  let next = 0;
  for (const { chunks: count, ...record } of stored) {
    const first = next;
    documents.set(
      record.id,
      withLazyChunkIds(record, () =>
        Array.from({ length: count }, (_, index) => chunks.loadedId(first + index)),
      ),
    );
    next += count;
  }
  return { documents, chunks };
}
