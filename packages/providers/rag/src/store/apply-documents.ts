import { InvalidRequestError } from '@fusionkit/core';
import type { DocumentFormat } from '../loaders/loaded-document.js';
import type { TextSplitter } from '../splitters/text-splitter.js';
import { HnswIndex } from '../vector/hnsw-index.js';
import { chunkDocument, documentVersion, lexicalText } from './chunk-document.js';
import type { CollectionState } from './collection-storage.js';
import type { LogEntry } from './commit-log.js';
import { validateDocument } from './prepare-documents.js';
import type { ChunkRecord, DocumentInput, DocumentRecord } from './records.js';

/** What planning and applying need from the collection. */
export interface ApplyContext {
  state: CollectionState;
  /** Cached filter views, dropped for every chunk that changes. */
  views: Map<string, Record<string, unknown>>;
  splitterFor(format: DocumentFormat): TextSplitter;
  /** Receives every change applied, for the next commit's log (absent while replaying the log). */
  journal?: LogEntry[];
  /** Replaying log entries whose vector changes the loaded vector file already holds: leave it alone. */
  vectorsSaved?: boolean;
  /** Replaying the log at a load: new vectors wait outside the graph until it is saved (see `HnswIndex.add`). */
  vectorsLater?: boolean;
}

/** A changed or new document with its new chunks. */
export interface PlannedDocument {
  record: DocumentRecord;
  chunks: ChunkRecord[];
}

export interface DocumentPlan {
  documents: PlannedDocument[];
  /** Chunks not in the vector index yet: the only ones to embed. */
  newChunks: ChunkRecord[];
  /** Documents whose version is already indexed. */
  unchanged: number;
}

/** Validates and splits a batch; documents whose version is unchanged are left out. Touches no index. */
export function planDocuments(context: ApplyContext, inputs: readonly DocumentInput[]): DocumentPlan {
  const latest = new Map<string, DocumentInput>();
  inputs.forEach((input, index) => {
    validateDocument(input, index);
    latest.set(input.id, input);
  });
  const { state } = context;
  const plan: DocumentPlan = { documents: [], newChunks: [], unchanged: 0 };
  const seen = new Set<string>();
  for (const input of latest.values()) {
    const version = documentVersion(input);
    if (state.documents.get(input.id)?.version === version) {
      plan.unchanged++;
      continue;
    }
    const format = input.format ?? 'text';
    const chunks = chunkDocument(input, context.splitterFor(format));
    const record: DocumentRecord = {
      id: input.id,
      ...(input.uri ? { uri: input.uri } : {}),
      ...(input.title ? { title: input.title } : {}),
      format,
      metadata: input.metadata ?? {},
      version,
      length: input.text.length,
      chunkIds: chunks.map((chunk) => chunk.id),
      updatedAt: new Date().toISOString(),
    };
    plan.documents.push({ record, chunks });
    if (!state.config.vector) continue;
    for (const chunk of chunks) {
      // The indexes hold only the collection's chunks: a chunk it lacks needs no lookup there.
      if ((state.chunks.has(chunk.id) && state.vectors?.has(chunk.id)) || seen.has(chunk.id)) continue;
      seen.add(chunk.id);
      plan.newChunks.push(chunk);
    }
  }
  return plan;
}

function removeChunk(context: ApplyContext, id: string): void {
  const { state } = context;
  state.bm25.delete(id);
  if (!context.vectorsSaved && state.vectors?.delete(id)) state.vectorsChanged = true;
  state.chunks.delete(id);
  context.views.delete(id);
}

/** The vector index, created on the first vector; every vector must have the collection's dimensions. */
function vectorIndexFor(state: CollectionState, vectors: ReadonlyMap<string, number[]>): HnswIndex {
  const config = state.config.vector!;
  const dimensions = config.dimensions ?? vectors.values().next().value!.length;
  for (const vector of vectors.values()) {
    if (vector.length !== dimensions || vector.length === 0) {
      throw new InvalidRequestError(
        `Embedding model returned ${vector.length} dimensions; collection '${state.config.name}' has ${dimensions}`,
        { code: 'dimension_mismatch' },
      );
    }
  }
  if (!state.vectors) {
    config.dimensions = dimensions;
    state.vectors = new HnswIndex({
      dimensions,
      M: config.M,
      efConstruction: config.efConstruction,
      ef: config.ef,
    });
  }
  return state.vectors;
}

/**
 * Applies deletions and planned documents to the state, synchronously, so that a concurrent search
 * sees the whole batch or none of it. A changed document drops its vanished chunks from both indexes;
 * chunks it keeps keep their vectors.
 */
export function applyDocuments(
  context: ApplyContext,
  planned: readonly PlannedDocument[],
  deleteIds: readonly string[] = [],
  vectors?: ReadonlyMap<string, number[]>,
): { added: number; updated: number; chunksAdded: number; chunksRemoved: number } {
  const { state } = context;
  const counts = { added: 0, updated: 0, chunksAdded: 0, chunksRemoved: 0 };
  // Vectors are checked before anything changes: a bad one must not leave a half-applied batch.
  const index = vectors && vectors.size > 0 ? vectorIndexFor(state, vectors) : state.vectors;
  const deleted: string[] = [];
  for (const id of deleteIds) {
    const document = state.documents.get(id);
    if (!document) continue;
    for (const chunkId of document.chunkIds) removeChunk(context, chunkId);
    counts.chunksRemoved += document.chunkIds.length;
    state.documents.delete(id);
    deleted.push(id);
  }
  if (deleted.length > 0) context.journal?.push({ delete: deleted });
  for (const { record, chunks } of planned) {
    const previous = state.documents.get(record.id);
    const keep = new Set(record.chunkIds);
    for (const chunkId of previous?.chunkIds ?? []) {
      if (keep.has(chunkId)) continue;
      removeChunk(context, chunkId);
      counts.chunksRemoved++;
    }
    let added: Record<string, number[]> | undefined;
    for (const chunk of chunks) {
      // The indexes hold only the collection's chunks: a new chunk is in neither (no lookup there).
      const absent = !state.chunks.has(chunk.id);
      if (absent) counts.chunksAdded++;
      state.chunks.set(chunk.id, chunk);
      context.views.delete(chunk.id);
      state.bm25.add(chunk.id, lexicalText(chunk, record.title), { absent });
      const vector = vectors?.get(chunk.id);
      if (vector && index && (absent || !index.has(chunk.id))) {
        index.add(chunk.id, vector, { absent: true, ...(context.vectorsLater ? { later: true } : {}) });
        state.vectorsChanged = true;
        (added ??= {})[chunk.id] = vector;
      }
    }
    state.documents.set(record.id, record);
    context.journal?.push({ put: record, chunks: [...chunks], ...(added ? { vectors: added } : {}) });
    if (previous) counts.updated++;
    else counts.added++;
  }
  return counts;
}

/**
 * Applies the entries of a commit log, in order, to a state loaded from its snapshot. The first
 * `indexed` entries change only documents, chunks and BM25: the vector file saved after them holds
 * their vectors already.
 */
export function replayLog(context: ApplyContext, entries: readonly LogEntry[], indexed = 0): void {
  entries.forEach((entry, position) => {
    const entryContext = { ...context, vectorsSaved: position < indexed, vectorsLater: true };
    if ('delete' in entry) {
      applyDocuments(entryContext, [], entry.delete);
      return;
    }
    const vectors = entry.vectors && position >= indexed ? new Map(Object.entries(entry.vectors)) : undefined;
    applyDocuments(entryContext, [{ record: entry.put, chunks: entry.chunks }], [], vectors);
  });
}
