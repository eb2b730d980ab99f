import type { ChunkRecord, DocumentRecord } from './records.js';

/**
 * The fields a metadata filter sees for a chunk: the document's metadata, the chunk's (e.g.
 * `headings`), then `documentId`, `format`, `uri` and `title`, which metadata cannot override.
 *
 * @example { team: 'docs', headings: ['Install'], documentId: 'guide', format: 'markdown', uri: 'file:///…' }
 */
export function chunkFilterView(document: DocumentRecord, chunk: ChunkRecord): Record<string, unknown> {
  return {
    ...document.metadata,
    ...chunk.metadata,
    documentId: document.id,
    format: document.format,
    ...(document.uri ? { uri: document.uri } : {}),
    ...(document.title ? { title: document.title } : {}),
  };
}
