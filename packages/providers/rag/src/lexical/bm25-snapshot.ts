import { endianness } from 'node:os';

/**
 * The persisted form of a BM25 index: per document (in `ids` order) its length and its distinct terms
 * as ids into `terms`, with their frequencies, flattened into typed arrays.
 */
export interface Bm25Snapshot {
  header: { version: 2; k1: number; b: number; analyzerId: string; terms: string[]; ids: string[] };
  /** Token count of each document. */
  lengths: Uint32Array;
  /** Distinct terms of each document: how many entries of `termIds`/`frequencies` it owns. */
  termCounts: Uint32Array;
  termIds: Uint32Array;
  frequencies: Uint32Array;
}

const MAGIC = 0x35324d42; // 'BM25' read as a little-endian u32

function aligned(bytes: Uint8Array, offset: number, count: number): Uint32Array {
  const start = bytes.byteOffset + offset;
  if (start % 4 === 0) return new Uint32Array(bytes.buffer, start, count);
  return new Uint32Array(bytes.slice(offset, offset + count * 4).buffer);
}

/**
 * Encodes a snapshot as `magic, header length, header JSON, padding, lengths, termCounts, termIds,
 * frequencies`: one JSON parse and four typed-array views load it, so a large index loads in
 * milliseconds with little garbage. Little-endian, like every platform Node runs on here.
 */
export function encodeBm25Snapshot(snapshot: Bm25Snapshot): Uint8Array {
  if (endianness() !== 'LE') throw new Error('BM25 snapshots are little-endian only');
  const header = new TextEncoder().encode(JSON.stringify(snapshot.header));
  const headerEnd = 8 + header.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const arrays = [snapshot.lengths, snapshot.termCounts, snapshot.termIds, snapshot.frequencies];
  const total = dataStart + arrays.reduce((sum, array) => sum + array.byteLength, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, header.length, true);
  bytes.set(header, 8);
  let offset = dataStart;
  for (const array of arrays) {
    bytes.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
    offset += array.byteLength;
  }
  return bytes;
}

/** Decodes {@link encodeBm25Snapshot}'s bytes; the typed arrays are views on `bytes` where aligned. */
export function decodeBm25Snapshot(bytes: Uint8Array): Bm25Snapshot {
  if (endianness() !== 'LE') throw new Error('BM25 snapshots are little-endian only');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0, true) !== MAGIC) throw new Error('not a BM25 snapshot');
  const headerLength = view.getUint32(4, true);
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)),
  ) as Bm25Snapshot['header'];
  if (header.version !== 2) throw new Error(`unsupported BM25 snapshot version ${String(header.version)}`);
  const documents = header.ids.length;
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
