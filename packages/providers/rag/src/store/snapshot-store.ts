import { readFile } from 'node:fs/promises';
import { decodeBinaryFile, encodeBinaryFile } from '../util/binary-file.js';
import { forEachPackedString, packStrings } from '../util/string-table.js';
import type { ChunkRecord, DocumentRecord } from './records.js';

const MAGIC = 'FKST';

/** A document in the snapshot header: its record without chunk ids (they follow from `chunks`). */
type StoredDocument = Omit<DocumentRecord, 'chunkIds'> & { chunks: number };

interface StoreHeader {
  version: 3;
  generation: number;
  documents: StoredDocument[];
}

/**
 * Encodes the documents and chunks of a collection as a binary snapshot: document records in a JSON
 * header, and per chunk (in document order) its id, text and metadata JSON as packed strings, plus
 * its offsets as u32 arrays. Loading it is one read, one decode per 16M characters, and a slice per
 * string: no JSON parse of the texts.
 */
export function encodeStoreSnapshot(
  generation: number,
  documents: Iterable<DocumentRecord>,
  chunkOf: (id: string) => ChunkRecord,
): Uint8Array[] {
  const stored: StoredDocument[] = [];
  const strings: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (const { chunkIds, ...document } of documents) {
    stored.push({ ...document, chunks: chunkIds.length });
    for (const id of chunkIds) {
      const chunk = chunkOf(id);
      const hasMetadata = Object.keys(chunk.metadata).length > 0;
      strings.push(chunk.id, chunk.text, hasMetadata ? JSON.stringify(chunk.metadata) : '');
      starts.push(chunk.start);
      ends.push(chunk.end);
    }
  }
  const packed = packStrings(strings);
  const header: StoreHeader = { version: 3, generation, documents: stored };
  return encodeBinaryFile(
    MAGIC,
    { ...header },
    {
      lengths: packed.lengths,
      pieces: packed.pieces,
      data: packed.data,
      starts: Uint32Array.from(starts),
      ends: Uint32Array.from(ends),
    },
  );
}

/** Reads a snapshot written by {@link encodeStoreSnapshot}. */
export async function readStoreSnapshot(
  path: string,
): Promise<{ documents: Map<string, DocumentRecord>; chunks: Map<string, ChunkRecord> }> {
  const file = decodeBinaryFile<StoreHeader>(MAGIC, await readFile(path));
  if (file.header.version !== 3)
    throw new Error(`unsupported store snapshot version ${String(file.header.version)}`);
  const starts = file.uint32('starts');
  const ends = file.uint32('ends');
  const count = starts.length;
  const ids = new Array<string>(count);
  const texts = new Array<string>(count);
  const metadata = new Array<string>(count);
  const packed = { lengths: file.uint32('lengths'), pieces: file.uint32('pieces'), data: file.bytes('data') };
  if (packed.lengths.length !== count * 3) throw new Error(`${path} is corrupt`);
  forEachPackedString(packed, (index, piece, start, end) => {
    const chunk = (index / 3) | 0;
    const value = start === end ? '' : piece.slice(start, end);
    if (index % 3 === 0) ids[chunk] = value;
    else if (index % 3 === 1) texts[chunk] = value;
    else metadata[chunk] = value;
  });
  const documents = new Map<string, DocumentRecord>();
  const chunks = new Map<string, ChunkRecord>();
  let next = 0;
  for (const { chunks: chunkCount, ...stored } of file.header.documents) {
    const chunkIds = ids.slice(next, next + chunkCount);
    documents.set(stored.id, { ...stored, chunkIds });
    for (const last = next + chunkCount; next < last; next++) {
      chunks.set(ids[next]!, {
        id: ids[next]!,
        documentId: stored.id,
        text: texts[next]!,
        start: starts[next]!,
        end: ends[next]!,
        metadata: metadata[next] ? (JSON.parse(metadata[next]!) as Record<string, unknown>) : {},
      });
    }
  }
  if (next !== count) throw new Error(`${path} is corrupt`);
  return { documents, chunks };
}
