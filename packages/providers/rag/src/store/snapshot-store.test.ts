import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeBinaryFile } from '../util/binary-file.js';
import { buildIdTable } from '../util/id-table.js';
import { ByteStrings } from '../util/string-column.js';
import { packBytes, packStrings } from '../util/string-table.js';
import type { ChunkRecord, DocumentRecord } from './records.js';
import { encodeStoreSnapshot, readStoreSnapshot } from './snapshot-store.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rag-store-snapshot-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const document = (id: string, chunkIds: string[]): DocumentRecord => ({
  id,
  title: `Title ${id}`,
  format: 'text',
  metadata: { team: 'docs' },
  version: `v-${id}`,
  length: 40,
  chunkIds,
  updatedAt: '2026-01-01T00:00:00.000Z',
});

const chunks: ChunkRecord[] = [
  { id: 'c1', documentId: 'a', text: 'First chunk, naïve café ☕.', start: 0, end: 26, metadata: {} },
  { id: 'c2~2', documentId: 'a', text: '', start: 26, end: 26, metadata: { headings: ['Intro'] } },
  { id: 'ünïcode-id', documentId: 'b', text: 'Surrogates 𝄞 too.', start: 0, end: 17, metadata: { page: 2 } },
];
const documents = [document('a', ['c1', 'c2~2']), document('b', ['ünïcode-id'])];
const byId = new Map(chunks.map((chunk) => [chunk.id, chunk]));

/** A version 3 snapshot, as the previous release wrote it: id, text, metadata interleaved as packed strings. */
function encodeVersion3(): Uint8Array[] {
  const strings = chunks.flatMap((chunk) => [
    chunk.id,
    chunk.text,
    Object.keys(chunk.metadata).length > 0 ? JSON.stringify(chunk.metadata) : '',
  ]);
  const packed = packStrings(strings);
  return encodeBinaryFile(
    'FKST',
    {
      version: 3,
      generation: 1,
      documents: documents.map(({ chunkIds, ...rest }) => ({ ...rest, chunks: chunkIds.length })),
    },
    {
      lengths: packed.lengths,
      pieces: packed.pieces,
      data: packed.data,
      starts: Uint32Array.from(chunks, (chunk) => chunk.start),
      ends: Uint32Array.from(chunks, (chunk) => chunk.end),
    },
  );
}

/** A version 4 snapshot, as the previous release wrote it: documents in the header, chunks as byte columns. */
function encodeVersion4(): Uint8Array[] {
  const column = (values: string[]) => packBytes(values);
  const ids = column(chunks.map((chunk) => chunk.id));
  const texts = column(chunks.map((chunk) => chunk.text));
  const metadata = column(
    chunks.map((chunk) => (Object.keys(chunk.metadata).length > 0 ? JSON.stringify(chunk.metadata) : '')),
  );
  const idTable = buildIdTable(new ByteStrings(ids.offsets, ids.data));
  return encodeBinaryFile(
    'FKST',
    {
      version: 4,
      generation: 1,
      documents: documents.map(({ chunkIds, ...rest }) => ({ ...rest, chunks: chunkIds.length })),
    },
    {
      idOffsets: ids.offsets,
      idData: ids.data,
      textOffsets: texts.offsets,
      textData: texts.data,
      metadataOffsets: metadata.offsets,
      metadataData: metadata.data,
      starts: Uint32Array.from(chunks, (chunk) => chunk.start),
      ends: Uint32Array.from(chunks, (chunk) => chunk.end),
      idTable: new Uint32Array(idTable.buffer, idTable.byteOffset, idTable.length),
    },
  );
}

describe('store snapshot', () => {
  for (const [version, encode] of [
    ['5', () => encodeStoreSnapshot(1, documents, (id) => byId.get(id)!)],
    ['4', encodeVersion4],
    ['3', encodeVersion3],
  ] as const) {
    it(`reads a version ${version} snapshot: documents, and chunks by id made on access`, async () => {
      const path = join(directory, 'store-1.bin');
      await writeFile(path, Buffer.concat(encode()));
      const store = await readStoreSnapshot(path);
      expect([...store.documents.values()]).toEqual(documents);
      expect(store.chunks.size).toBe(3);
      for (const chunk of chunks) expect(store.chunks.get(chunk.id)).toEqual(chunk);
      expect(store.chunks.has('c3')).toBe(false);
      expect(store.chunks.get('c')).toBeUndefined();
      // Changes since the load: a replaced chunk reads as its new record; a deleted one is gone.
      store.chunks.set('c1', { ...chunks[0]!, text: 'Replaced.' });
      expect(store.chunks.get('c1')?.text).toBe('Replaced.');
      expect(store.chunks.delete('ünïcode-id')).toBe(true);
      expect(store.chunks.has('ünïcode-id')).toBe(false);
      expect(store.chunks.delete('ünïcode-id')).toBe(false);
      expect(store.chunks.size).toBe(2);
      // Documents too: found by id, replaced, deleted, counted.
      expect(store.documents.get('b')).toEqual(documents[1]);
      expect(store.documents.get('a')).toBe(store.documents.get('a'));
      expect([store.documents.has('a'), store.documents.has('c'), store.documents.get('c')]).toEqual([
        true,
        false,
        undefined,
      ]);
      store.documents.set('a', { ...documents[0]!, title: 'Replaced' });
      expect(store.documents.get('a')?.title).toBe('Replaced');
      expect([store.documents.delete('b'), store.documents.delete('b'), store.documents.size]).toEqual([
        true,
        false,
        1,
      ]);
      expect([...store.documents.keys()]).toEqual(['a']);
    });
  }
});
