import type { RetrievedChunk } from '@fusionkit/core';
import type { IngestReport } from '../store/collection-options.js';
import type { ChunkRecord, CollectionInfo, DocumentRecord, SplitterConfig } from '../store/records.js';

// The JSON of `/api/rag/*` has snake_case fields and Unix-second times, like the OpenAI API the
// orchestrator serves next to it.

function unixSeconds(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** How a collection splits documents. */
export function splitterJson(splitter: SplitterConfig) {
  return {
    kind: splitter.kind,
    chunk_size: splitter.chunkSize,
    chunk_overlap: splitter.chunkOverlap,
    tokenizer: splitter.tokenizer ?? null,
  };
}

/** A collection, with the model that answers from it (`rag/<name>`) when a generator is configured. */
export function collectionJson(info: CollectionInfo, pipeline: string | undefined) {
  return {
    object: 'rag.collection' as const,
    name: info.name,
    description: info.description ?? null,
    created_at: unixSeconds(info.createdAt) ?? 0,
    committed_at: unixSeconds(info.committedAt) ?? null,
    documents: info.documents,
    chunks: info.chunks,
    generation: info.generation,
    vector: info.vector
      ? {
          model: info.vector.model ?? null,
          dimensions: info.vector.dimensions ?? null,
          m: info.vector.M,
          ef_construction: info.vector.efConstruction,
          ef: info.vector.ef,
        }
      : null,
    lexical_only: info.vector === undefined,
    splitter: info.splitter ? splitterJson(info.splitter) : null,
    owner: info.owner ?? null,
    model: pipeline ?? null,
  };
}

/** A document without its text (its chunks hold it). */
export function documentJson(document: DocumentRecord) {
  return {
    object: 'rag.document' as const,
    id: document.id,
    uri: document.uri ?? null,
    title: document.title ?? null,
    format: document.format,
    metadata: document.metadata,
    version: document.version,
    length: document.length,
    chunks: document.chunkIds.length,
    updated_at: unixSeconds(document.updatedAt) ?? 0,
  };
}

/** A document with its chunks, in order. */
export function documentWithChunksJson(document: DocumentRecord & { chunks: ChunkRecord[] }) {
  return {
    ...documentJson(document),
    chunks: document.chunks.map((chunk) => ({
      id: chunk.id,
      text: chunk.text,
      span: { start: chunk.start, end: chunk.end },
      metadata: chunk.metadata,
    })),
  };
}

/** One search hit, ranked from 1. */
export function chunkJson(chunk: RetrievedChunk, rank: number) {
  return {
    object: 'rag.chunk' as const,
    rank,
    id: chunk.id,
    document_id: chunk.documentId,
    score: chunk.score,
    text: chunk.text,
    uri: chunk.source?.uri ?? null,
    title: chunk.source?.title ?? null,
    span: chunk.source?.span ?? null,
    metadata: chunk.metadata ?? {},
  };
}

/** What an ingest did. */
export function ingestReportJson(collection: string, report: IngestReport, lexicalOnly: boolean) {
  return {
    object: 'rag.ingest' as const,
    collection,
    sources: report.sources,
    documents: report.documents,
    added: report.added,
    updated: report.updated,
    unchanged: report.unchanged,
    chunks_added: report.chunksAdded,
    chunks_removed: report.chunksRemoved,
    document_ids: report.documentIds,
    skipped: report.skipped,
    generation: report.generation,
    lexical_only: lexicalOnly,
  };
}
