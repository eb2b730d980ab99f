import { endianness } from 'node:os';
import { type BinaryFile, decodeBinaryFile, encodeBinaryFile, hasMagic } from '../util/binary-file.js';
import { buildIdTable } from '../util/id-table.js';
import { SlotIds, type StoredSlotIds } from '../util/slot-ids.js';
import { ByteStrings } from '../util/string-column.js';
import { packStrings, unpackStrings } from '../util/string-table.js';

/**
 * The persisted form of a BM25 index: per document (in `ids` order) its length and its distinct terms
 * as ids into `terms`, with their frequencies, flattened into typed arrays; (version 3) the postings
 * of each term, so that a load takes them as views instead of rebuilding them; and (version 4) the
 * document ids as UTF-8 bytes with their hash table, so that a load makes no string per document.
 */
export interface Bm25Snapshot {
  header: {
    version: 2 | 3 | 4;
    k1: number;
    b: number;
    analyzerId: string;
    terms: string[];
    /** The document ids, in order (absent when `storedIds` holds them). */
    ids?: string[];
  };
  /** The document ids as a version 4 file holds them (read without a string each). */
  storedIds?: StoredSlotIds;
  /** Token count of each document. */
  lengths: Uint32Array;
  /** Distinct terms of each document: how many entries of `termIds`/`frequencies` it owns. */
  termCounts: Uint32Array;
  termIds: Uint32Array;
  frequencies: Uint32Array;
  /**
   * Term `t`'s postings are entries `starts[t]` to `starts[t + 1]` of `documents` (positions in
   * `ids`) and `frequencies`. Absent in version 2 snapshots (rebuilt on load).
   */
  postings?: { starts: Uint32Array; documents: Uint32Array; frequencies: Uint32Array };
}

/** Version 2: 'BM25' read as a little-endian u32, then a JSON header and four arrays. */
const MAGIC_V2 = 0x35324d42;
/** Versions 3 and 4 (the header says which). */
const MAGIC = 'BMV3';

function aligned(bytes: Uint8Array, offset: number, count: number): Uint32Array {
  const start = bytes.byteOffset + offset;
  if (start % 4 === 0) return new Uint32Array(bytes.buffer, start, count);
  return new Uint32Array(bytes.slice(offset, offset + count * 4).buffer);
}

/** The postings of a snapshot's documents: its per-document entries transposed. */
function transpose(snapshot: Bm25Snapshot): NonNullable<Bm25Snapshot['postings']> {
  const { termIds, frequencies, termCounts } = snapshot;
  const starts = new Uint32Array(snapshot.header.terms.length + 1);
  for (const termId of termIds) starts[termId + 1]!++;
  for (let term = 0; term < snapshot.header.terms.length; term++) starts[term + 1]! += starts[term]!;
  const next = starts.slice(0, -1);
  const documents = new Uint32Array(termIds.length);
  const postingFrequencies = new Uint32Array(termIds.length);
  let entry = 0;
  for (let document = 0; document < termCounts.length; document++) {
    for (const last = entry + termCounts[document]!; entry < last; entry++) {
      const at = next[termIds[entry]!]!++;
      documents[at] = document;
      postingFrequencies[at] = frequencies[entry]!;
    }
  }
  return { starts, documents, frequencies: postingFrequencies };
}

/** The document ids of a snapshot, as a file stores them. */
function storedIdsOf(snapshot: Bm25Snapshot): StoredSlotIds {
  return snapshot.storedIds ?? SlotIds.store(snapshot.header.ids ?? []);
}

/**
 * Encodes a snapshot (version 4) as a binary file: a JSON header, the document ids as UTF-8 bytes with
 * offsets and their hash table, terms as packed strings, the per-document arrays and the postings: a
 * load is views on one buffer and a slice per term.
 */
export function encodeBm25Snapshot(snapshot: Bm25Snapshot): Uint8Array {
  const { terms, ids: _ids, ...header } = snapshot.header;
  const postings = snapshot.postings ?? transpose(snapshot);
  const ids = storedIdsOf(snapshot);
  const table =
    ids.table ?? buildIdTable(new ByteStrings(ids.offsets, ids.data), (slot) => ids.empty[slot] === 1);
  const packedTerms = packStrings(terms);
  const pieces = encodeBinaryFile(
    MAGIC,
    { ...header, version: 4 },
    {
      idOffsets: ids.offsets,
      idData: ids.data,
      idTable: new Uint32Array(table.buffer, table.byteOffset, table.length),
      termLengths: packedTerms.lengths,
      termPieces: packedTerms.pieces,
      termData: packedTerms.data,
      lengths: snapshot.lengths,
      termCounts: snapshot.termCounts,
      termIds: snapshot.termIds,
      frequencies: snapshot.frequencies,
      postingStarts: postings.starts,
      postingDocuments: postings.documents,
      postingFrequencies: postings.frequencies,
    },
  );
  return Buffer.concat(pieces);
}

/** Decodes {@link encodeBm25Snapshot}'s bytes (or a version 2 snapshot); arrays are views on `bytes`. */
export function decodeBm25Snapshot(bytes: Uint8Array): Bm25Snapshot {
  if (endianness() !== 'LE') throw new Error('BM25 snapshots are little-endian only');
  if (hasMagic(bytes, MAGIC)) return decodeBinary(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0, true) !== MAGIC_V2) throw new Error('not a BM25 snapshot');
  const headerLength = view.getUint32(4, true);
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)),
  ) as Bm25Snapshot['header'];
  if (header.version !== 2) throw new Error(`unsupported BM25 snapshot version ${String(header.version)}`);
  const documents = header.ids?.length ?? 0;
  let offset = Math.ceil((8 + headerLength) / 4) * 4;
  const lengths = aligned(bytes, offset, documents);
  offset += documents * 4;
  const termCounts = aligned(bytes, offset, documents);
  offset += documents * 4;
  const entries = termCounts.reduce((sum, count) => sum + count, 0);
  const termIds = aligned(bytes, offset, entries);
  offset += entries * 4;
  const frequencies = aligned(bytes, offset, entries);
  if (offset + entries * 4 !== bytes.length) throw new Error('BM25 snapshot is truncated or corrupt');
  return { header, lengths, termCounts, termIds, frequencies };
}

function decodeBinary(bytes: Uint8Array): Bm25Snapshot {
  type Header = Omit<Bm25Snapshot['header'], 'terms' | 'ids'>;
  let file: BinaryFile<Header>;
  try {
    file = decodeBinaryFile<Header>(MAGIC, bytes);
  } catch (error) {
    throw new Error(`BM25 snapshot is truncated or corrupt: ${(error as Error).message}`);
  }
  const { header } = file;
  if (header.version !== 3 && header.version !== 4)
    throw new Error(`unsupported BM25 snapshot version ${String(header.version)}`);
  const terms = unpackStrings({
    lengths: file.uint32('termLengths'),
    pieces: file.uint32('termPieces'),
    data: file.bytes('termData'),
  });
  let ids: Pick<Bm25Snapshot, 'storedIds'> & { ids?: string[] };
  let documents: number;
  if (header.version === 4) {
    const offsets = file.uint32('idOffsets');
    const table = file.uint32('idTable');
    documents = Math.max(0, offsets.length - 1);
    ids = {
      storedIds: {
        offsets,
        data: file.bytes('idData'),
        empty: new Uint8Array(documents),
        table: new Int32Array(table.buffer, table.byteOffset, table.length),
      },
    };
  } else {
    const strings = unpackStrings({
      lengths: file.uint32('idLengths'),
      pieces: file.uint32('idPieces'),
      data: file.bytes('idData'),
    });
    documents = strings.length;
    ids = { ids: strings };
  }
  const snapshot: Bm25Snapshot = {
    header: {
      version: header.version,
      k1: header.k1,
      b: header.b,
      analyzerId: header.analyzerId,
      terms,
      ...(ids.ids ? { ids: ids.ids } : {}),
    },
    ...(ids.storedIds ? { storedIds: ids.storedIds } : {}),
    lengths: file.uint32('lengths'),
    termCounts: file.uint32('termCounts'),
    termIds: file.uint32('termIds'),
    frequencies: file.uint32('frequencies'),
    postings: {
      starts: file.uint32('postingStarts'),
      documents: file.uint32('postingDocuments'),
      frequencies: file.uint32('postingFrequencies'),
    },
  };
  const entries = snapshot.termIds.length;
  if (
    snapshot.lengths.length !== documents ||
    snapshot.termCounts.length !== documents ||
    snapshot.frequencies.length !== entries ||
    snapshot.postings!.starts.length !== terms.length + 1 ||
    snapshot.postings!.documents.length !== entries ||
    snapshot.postings!.starts[terms.length] !== entries
  ) {
    throw new Error('BM25 snapshot is truncated or corrupt');
  }
  return snapshot;
}
