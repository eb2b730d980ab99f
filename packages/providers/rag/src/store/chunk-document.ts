import type { TextSplitter } from '../splitters/text-splitter.js';
import { contentHash } from '../util/content-hash.js';
import type { ChunkRecord, DocumentInput } from './records.js';

/** The version hash of a document: any change to what is indexed or returned changes it. */
export function documentVersion(input: DocumentInput): string {
  return contentHash(
    input.text,
    input.title ?? '',
    input.uri ?? '',
    input.format ?? 'text',
    JSON.stringify(input.metadata ?? {}),
    // Only for paged documents, so the versions of every other document stay as they were.
    ...(input.pageStarts ? [JSON.stringify(input.pageStarts)] : []),
  );
}

/** The 1-based page holding an offset, given where pages start (binary search). */
function pageAt(pageStarts: readonly number[], offset: number): number {
  let low = 0;
  let high = pageStarts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (pageStarts[middle]! <= offset) low = middle;
    else high = middle - 1;
  }
  return low + 1;
}

/** `page` (and `pageEnd` when it runs on) of a chunk of a paged document. */
function pageMetadata(pageStarts: readonly number[] | undefined, start: number, end: number) {
  if (!pageStarts || pageStarts.length === 0) return {};
  const page = pageAt(pageStarts, start);
  const pageEnd = pageAt(pageStarts, Math.max(start, end - 1));
  return pageEnd === page ? { page } : { page, pageEnd };
}

/**
 * Splits a document into chunk records whose ids are content hashes (document id + chunk text), so
 * an unchanged chunk keeps its id, its index entries and its vector across re-ingests. A text that
 * repeats within the document gets `~2`, `~3`… after its hash.
 */
export function chunkDocument(input: DocumentInput, splitter: TextSplitter): ChunkRecord[] {
  const seen = new Map<string, number>();
  return splitter.split(input.text).map((chunk) => {
    const hash = contentHash(input.id, chunk.text);
    const count = (seen.get(hash) ?? 0) + 1;
    seen.set(hash, count);
    return {
      id: count === 1 ? hash : `${hash}~${count}`,
      documentId: input.id,
      text: chunk.text,
      start: chunk.start,
      end: chunk.end,
      metadata: { ...chunk.metadata, ...pageMetadata(input.pageStarts, chunk.start, chunk.end) },
    };
  });
}

/** What BM25 indexes for a chunk: the document title and heading trail help short chunks match. */
export function lexicalText(chunk: ChunkRecord, title: string | undefined): string {
  const headings = Array.isArray(chunk.metadata.headings)
    ? (chunk.metadata.headings as string[]).join('\n')
    : '';
  return [title ?? '', headings, chunk.text].filter(Boolean).join('\n');
}
