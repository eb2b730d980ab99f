import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { fdatasyncDescriptor, writeFullSync } from '../util/atomic-write.js';
import type { ChunkRecord, DocumentRecord } from './records.js';

/**
 * One change since the last snapshot: a document put (with its chunks and the vectors it added to the
 * index) or documents deleted (tombstones). Replaying the entries in order over the snapshot gives
 * the committed state.
 */
export type LogEntry =
  | { put: DocumentRecord; chunks: ChunkRecord[]; vectors?: Record<string, number[]> }
  | { delete: string[] };

/** Vectors travel as base64 of their float32 bytes: hnswlib keeps float32, so nothing is lost. */
function encodeVector(vector: readonly number[]): string {
  return Buffer.from(Float32Array.from(vector).buffer).toString('base64');
}

function decodeVector(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  const view = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  // hnswlib-node takes plain arrays only.
  return Array.from(view);
}

/** The lines of entries, as appended to the log. */
export function encodeLogEntries(entries: readonly LogEntry[]): string {
  let text = '';
  for (const entry of entries) {
    if ('put' in entry && entry.vectors) {
      const vectors: Record<string, string> = {};
      for (const [id, vector] of Object.entries(entry.vectors)) vectors[id] = encodeVector(vector);
      text += `${JSON.stringify({ ...entry, vectors })}\n`;
    } else {
      text += `${JSON.stringify(entry)}\n`;
    }
  }
  return text;
}

/** Chunks an entry writes or removes: what the compaction threshold counts. */
export function entryWeight(entry: LogEntry): number {
  return 'put' in entry ? Math.max(1, entry.chunks.length) : entry.delete.length;
}

/** Vectors an entry adds to the index: what the vector checkpoint threshold counts. */
export function entryVectors(entry: LogEntry): number {
  return 'put' in entry && entry.vectors ? Object.keys(entry.vectors).length : 0;
}

/**
 * Reads the committed part of a log (`bytes` long; anything after it is an unfinished append, cut
 * off) and decodes its entries. `indexed` is how many leading entries end at or before byte
 * `indexedBytes` (the vector file saved after them already holds their vector changes).
 */
export async function readLog(
  path: string,
  bytes: number,
  indexedBytes = 0,
): Promise<{ entries: LogEntry[]; indexed: number }> {
  const size = (await stat(path)).size;
  if (size < bytes) throw new Error(`${path} is shorter than its commit (${size} < ${bytes} bytes)`);
  // Bytes past the commit (a torn append, or another process's append in progress) are left alone:
  // only the committed bytes are read, and the next append writes over what lies past them.
  const handle = await open(path, 'r');
  let buffer: Buffer;
  try {
    buffer = Buffer.alloc(bytes);
    let filled = 0;
    while (filled < bytes) {
      const { bytesRead } = await handle.read(buffer, filled, bytes - filled, filled);
      if (bytesRead === 0) throw new Error(`${path} ended at ${filled} of its ${bytes} committed bytes`);
      filled += bytesRead;
    }
  } finally {
    await handle.close();
  }
  const entries: LogEntry[] = [];
  let indexed = 0;
  let start = 0;
  while (start < buffer.length) {
    let end = buffer.indexOf(10, start);
    if (end === -1) end = buffer.length;
    if (end > start) {
      const raw = JSON.parse(buffer.toString('utf8', start, end)) as
        | LogEntry
        | { put: DocumentRecord; chunks: ChunkRecord[]; vectors?: Record<string, string> };
      if ('put' in raw && raw.vectors) {
        const vectors: Record<string, number[]> = {};
        for (const [id, text] of Object.entries(raw.vectors)) vectors[id] = decodeVector(text as string);
        entries.push({ put: raw.put, chunks: raw.chunks, vectors });
      } else {
        entries.push(raw as LogEntry);
      }
      if (end + 1 <= indexedBytes) indexed = entries.length;
    }
    start = end + 1;
  }
  return { entries, indexed };
}

/**
 * Appends `text` at byte `offset` of the log (created when absent), flushed to disk, and returns the
 * new length. Writing at the committed offset overwrites whatever an interrupted append left there.
 * The write goes to the page cache synchronously; only the flush waits in the thread pool.
 */
export async function appendLog(path: string, offset: number, text: string): Promise<number> {
  const descriptor = openSync(path, offset === 0 ? 'w' : 'r+', 0o644);
  const data = Buffer.from(text, 'utf8');
  try {
    writeFullSync(descriptor, data, offset);
    ftruncateSync(descriptor, offset + data.length);
    await fdatasyncDescriptor(descriptor);
  } finally {
    closeSync(descriptor);
  }
  return offset + data.length;
}
