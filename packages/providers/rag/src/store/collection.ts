import { basename } from 'node:path';
import { FusionError, InvalidRequestError, type RetrievedChunk } from '@fusionkit/core';
import { embedCallOptions } from '../embedding/embedder.js';
import { showDocumentIds } from '../filters/document-id-filter.js';
import type { Bm25Index } from '../lexical/bm25-index.js';
import type { DocumentFormat } from '../loaders/loaded-document.js';
import { isLegacyFileId, publicDocumentId } from '../sources/document-ids.js';
import type { IngestSource } from '../sources/ingest-source.js';
import { readSources, type SkippedSource, skipReason } from '../sources/read-sources.js';
import { loadTokenizer } from '../splitters/named-tokenizer.js';
import type { TextSplitter } from '../splitters/text-splitter.js';
import { SerialQueue } from '../util/serial-queue.js';
import type { HnswIndex } from '../vector/hnsw-index.js';
import { type ApplyContext, applyDocuments, replayLog } from './apply-documents.js';
import { chooseSplitter } from './choose-splitter.js';
import { chunkFilterView } from './chunk-filter-view.js';
import type { CollectionOptions, IngestOptions, IngestReport } from './collection-options.js';
import { type CollectionState, CollectionStorage } from './collection-storage.js';
import type { LogEntry } from './commit-log.js';
import { ingestBatch } from './ingest-batch.js';
import { prepareDocuments, validateDocument } from './prepare-documents.js';
import type {
  ChunkRecord,
  CollectionConfig,
  CollectionInfo,
  DocumentInput,
  DocumentRecord,
} from './records.js';
import { runIngest } from './run-ingest.js';
import { type SearchRequest, searchCollection } from './search-collection.js';
import { WriterLock } from './writer-lock.js';

/**
 * One collection: its documents, their chunks, a BM25 index and (optionally) an HNSW vector index,
 * persisted under `<dir>/rag/<name>/`. Writes are serialised and committed atomically; a failed write
 * puts the collection back to its last commit. Searches run concurrently with writes and see each
 * batch of documents either entirely or not at all.
 */
export class Collection {
  readonly #storage: CollectionStorage;
  readonly #options: CollectionOptions;
  readonly #queue = new SerialQueue();
  /** Writes of other processes to the same collection wait for this one's, and the other way round. */
  readonly #lock: WriterLock;
  #state: CollectionState;
  #views = new Map<string, Record<string, unknown>>();
  readonly #splitterFor: (format: DocumentFormat) => TextSplitter;
  /** Changes applied since the last commit. */
  #dirty = false;
  /** Those changes, for the commit's log. */
  #journal: LogEntry[] = [];
  /** A compaction is queued. */
  #compacting = false;

  private constructor(
    storage: CollectionStorage,
    state: CollectionState,
    options: CollectionOptions,
    lock: WriterLock,
  ) {
    this.#storage = storage;
    this.#state = state;
    this.#options = options;
    this.#splitterFor = chooseSplitter(state.config.splitter, options.splitter);
    this.#lock = lock;
  }

  /** Creates a collection in an empty directory. */
  static async create(
    directory: string,
    config: CollectionConfig,
    options: CollectionOptions = {},
  ): Promise<Collection> {
    const storage = new CollectionStorage(directory);
    await storage.create(config);
    return Collection.open(directory, options, storage);
  }

  /** Loads a collection's last commit. */
  static async open(
    directory: string,
    options: CollectionOptions = {},
    storage = new CollectionStorage(directory),
  ) {
    const lock = new WriterLock(storage.directory, basename(storage.directory), options.writerLock);
    // Files an interrupted write left are removed while the collection loads, by whoever holds the
    // lock (a reader only when no other process is writing: that writer's new files are unnamed yet).
    const cleanup = lock.tryRun(() => storage.removeUnreferenced()).catch(() => {});
    const state = await storage.load(Collection.#loadOptions(options)).finally(() => cleanup);
    await cleanup;
    const model = state.config.vector?.model;
    if (model && options.embedder && options.embedder.model !== model) {
      throw new InvalidRequestError(
        `Collection '${state.config.name}' was embedded with '${model}', not '${options.embedder.model}'`,
        { code: 'embedding_model_mismatch' },
      );
    }
    // No maintenance is started here: a process that only reads (a CLI query) never writes; the
    // writer checkpoints or compacts after its next commit.
    return new Collection(storage, state, options, lock);
  }

  /** How storage loads: `ef` for this process, and the log replayed with the collection's splitter. */
  static #loadOptions(options: CollectionOptions) {
    return {
      ...(options.ef ? { ef: options.ef } : {}),
      replay: (state: CollectionState, entries: LogEntry[], indexed: number) =>
        replayLog(
          { state, views: new Map(), splitterFor: chooseSplitter(state.config.splitter, undefined) },
          entries,
          indexed,
        ),
    };
  }

  get name(): string {
    return this.#state.config.name;
  }

  get config(): CollectionConfig {
    return this.#state.config;
  }

  /** What a search without a `mode` does: 'hybrid' with a vector index and an embedder, else 'bm25'. */
  get defaultSearchMode(): 'hybrid' | 'bm25' {
    return this.#state.config.vector && this.#options.embedder ? 'hybrid' : 'bm25';
  }

  /** The BM25 index (read-only use: benchmarks, diagnostics). */
  get bm25Index(): Bm25Index {
    return this.#state.bm25;
  }

  /** The vector index, once the first vector was added (read-only use). */
  get vectorIndex(): HnswIndex | undefined {
    return this.#state.vectors;
  }

  info(): CollectionInfo {
    const { config, documents, chunks } = this.#state;
    const manifest = this.#storage.manifest;
    return {
      name: config.name,
      ...(config.description ? { description: config.description } : {}),
      createdAt: config.createdAt,
      documents: documents.size,
      chunks: chunks.size,
      generation: manifest?.generation ?? 0,
      ...(manifest ? { committedAt: manifest.committedAt } : {}),
      ...(config.vector ? { vector: config.vector } : {}),
      splitter: config.splitter,
      ...(config.owner ? { owner: config.owner } : {}),
    };
  }

  /** Reads, loads, splits, embeds and indexes sources; unchanged documents are skipped. */
  async ingest(sources: readonly IngestSource[], options: IngestOptions = {}): Promise<IngestReport> {
    if (!Array.isArray(sources))
      throw new InvalidRequestError('sources must be an array', { param: 'sources' });
    const skipped: SkippedSource[] = [];
    const sourceOptions = { ...this.#options.sources, ...(options.signal ? { signal: options.signal } : {}) };
    let read = 0;
    // Ids of files from before ids were relative to the roots: replaced by this ingest's documents.
    const replaced: string[] = [];
    const legacyOf = (source: { id: string; legacyId?: string }, documents: DocumentInput[]) => {
      if (!source.legacyId) return;
      for (const document of documents) {
        if (document.id.startsWith(source.id))
          replaced.push(source.legacyId + document.id.slice(source.id.length));
      }
    };
    const documents = async function* () {
      for await (const source of readSources(sources, sourceOptions, (entry) => skipped.push(entry))) {
        read++;
        if (source.entry === undefined) {
          const prepared = await prepareDocuments(source);
          legacyOf(source, prepared);
          yield prepared;
          continue;
        }
        // A file of a folder that no loader can read (a broken PDF, binary bytes) is reported, not fatal.
        let prepared: DocumentInput[];
        try {
          prepared = await prepareDocuments(source);
          prepared.forEach(validateDocument);
        } catch (error) {
          if (!FusionError.isInstance(error) || error.status >= 500) throw error;
          skipped.push({
            path: source.entry,
            uri: source.entry,
            reason: skipReason(error, source.file ?? source.entry, source.entry),
          });
          continue;
        }
        legacyOf(source, prepared);
        yield prepared;
      }
    };
    return this.#writeTurn(async () => {
      const report = await this.#write(documents(), options, skipped, () => read);
      const stale = replaced.filter((id) => this.#state.documents.has(id));
      if (stale.length > 0) {
        await this.#deleteNow(stale);
        report.generation = this.#storage.manifest?.generation ?? report.generation;
      }
      return report;
    });
  }

  /** Adds or replaces documents given as text. */
  async upsertDocuments(
    inputs: readonly DocumentInput[],
    options: IngestOptions = {},
  ): Promise<IngestReport> {
    if (!Array.isArray(inputs))
      throw new InvalidRequestError('documents must be an array', { param: 'documents' });
    const documents = async function* () {
      yield [...inputs];
    };
    return this.#writeTurn(() => this.#write(documents(), options, [], () => inputs.length));
  }

  /** Deletes documents and their chunks from both indexes. Resolves to the number deleted. */
  deleteDocuments(ids: readonly string[]): Promise<number> {
    return this.#writeTurn(async () => {
      const existing = [...new Set(ids.flatMap((id) => this.#storedIds(id)))];
      if (existing.length === 0) return 0;
      await this.#deleteNow(existing);
      return existing.length;
    });
  }

  async #deleteNow(ids: string[]): Promise<void> {
    await this.#guarded(async () => {
      this.#dirty = true;
      applyDocuments(this.#context(), [], ids);
      await this.#commit();
    });
  }

  /** A document by id; a file's earlier absolute `file://` id and its relative id find each other. */
  getDocument(id: string): (DocumentRecord & { chunks: ChunkRecord[] }) | undefined {
    const stored = this.#storedIds(id)[0];
    const document = stored === undefined ? undefined : this.#state.documents.get(stored);
    if (!document) return undefined;
    return {
      ...this.#shown(document),
      chunks: document.chunkIds.map((chunkId) => {
        const chunk = this.#state.chunks.get(chunkId)!;
        return { ...chunk, documentId: this.#publicId(chunk.documentId) };
      }),
    };
  }

  #publicId(id: string): string {
    return publicDocumentId(id, this.#options.sources?.roots ?? []);
  }

  /** A document as clients see it: an earlier absolute file id (and URI) in the relative form. */
  #shown(document: DocumentRecord): DocumentRecord {
    if (!isLegacyFileId(document.id) && !(document.uri && isLegacyFileId(document.uri))) return document;
    return {
      ...document,
      id: this.#publicId(document.id),
      ...(document.uri ? { uri: this.#publicId(document.uri) } : {}),
    };
  }

  /**
   * The stored ids a client's id names: itself, or the document stored under the other form of a
   * file's id (absolute `file://` before, relative now). A relative id of an earlier document is
   * found by a scan of the earlier ids (deletes and lookups only).
   */
  #storedIds(id: string): string[] {
    const { documents } = this.#state;
    if (documents.has(id)) return [id];
    if (isLegacyFileId(id)) {
      const current = this.#publicId(id);
      return documents.has(current) ? [current] : [];
    }
    if (!id.startsWith('file:')) return [];
    return [...documents.keys()].filter((stored) => isLegacyFileId(stored) && this.#publicId(stored) === id);
  }

  /** Documents sorted by id, a page at a time. */
  listDocuments(page: { offset?: number; limit?: number } = {}): {
    total: number;
    documents: DocumentRecord[];
  } {
    const offset = Math.max(0, page.offset ?? 0);
    const limit = Math.min(1000, Math.max(1, page.limit ?? 100));
    const ids = [...this.#state.documents.keys()].sort();
    return {
      total: ids.length,
      documents: ids.slice(offset, offset + limit).map((id) => this.#shown(this.#state.documents.get(id)!)),
    };
  }

  async search(request: SearchRequest): Promise<RetrievedChunk[]> {
    // Ids in a filter compare as clients see them: an earlier absolute file id in the relative form.
    const filter = request.filter && showDocumentIds(request.filter, (id) => this.#publicId(id));
    const chunks = await searchCollection(
      { state: this.#state, embedder: this.#options.embedder, viewOf: (id) => this.#viewOf(id) },
      filter ? { ...request, filter } : request,
    );
    return chunks.map((chunk) =>
      isLegacyFileId(chunk.documentId ?? '') || (chunk.source?.uri && isLegacyFileId(chunk.source.uri))
        ? {
            ...chunk,
            documentId: this.#publicId(chunk.documentId ?? ''),
            ...(chunk.source
              ? {
                  source: {
                    ...chunk.source,
                    ...(chunk.source.uri ? { uri: this.#publicId(chunk.source.uri) } : {}),
                  },
                }
              : {}),
          }
        : chunk,
    );
  }

  /** Waits for pending writes. Nothing needs flushing: every write is committed before it resolves. */
  close(): Promise<void> {
    return this.#queue.run(async () => {});
  }

  async #write(
    batches: AsyncIterable<DocumentInput[]>,
    options: IngestOptions,
    skipped: SkippedSource[],
    sourcesRead: () => number,
  ): Promise<IngestReport> {
    // The token splitter's tokenizer, loaded without blocking the event loop before anything splits.
    const { tokenizer } = this.#state.config.splitter;
    if (tokenizer) await loadTokenizer(tokenizer, 'splitter.tokenizer');
    return this.#guarded(() =>
      runIngest(batches, options, {
        skipped,
        sourcesRead,
        generation: this.#storage.manifest?.generation ?? 0,
        applyBatch: async (batch) => {
          const counts = await ingestBatch(
            this.#context(),
            batch,
            this.#options.embedder,
            embedCallOptions(options),
          );
          if (counts.changed) this.#dirty = true;
          return counts;
        },
        commitIfChanged: async () => (this.#dirty ? (await this.#commit()).generation : undefined),
      }),
    );
  }

  #context(): ApplyContext {
    return { state: this.#state, views: this.#views, splitterFor: this.#splitterFor, journal: this.#journal };
  }

  #viewOf(chunkId: string): Record<string, unknown> | undefined {
    let view = this.#views.get(chunkId);
    if (view) return view;
    const chunk = this.#state.chunks.get(chunkId);
    const document = chunk && this.#state.documents.get(chunk.documentId);
    if (!chunk || !document) return undefined;
    view = chunkFilterView(this.#shown(document), chunk);
    this.#views.set(chunkId, view);
    return view;
  }

  async #commit() {
    const manifest = await this.#storage.commit(this.#state, this.#journal, this.#options.onCommitStep);
    this.#dirty = false;
    this.#journal = [];
    this.#scheduleMaintenance();
    return manifest;
  }

  /**
   * Writes a new snapshot once the log has grown past its threshold, or else saves the vector index
   * once a load would replay many vectors from the log (a checkpoint): queued behind the current
   * write, so the write that crossed the threshold resolves at once; searches go on meanwhile.
   */
  #scheduleMaintenance(): void {
    const storage = this.#storage;
    if (this.#compacting) return;
    if (!storage.needsCompaction(this.#state.chunks.size) && !storage.needsVectorCheckpoint()) return;
    this.#compacting = true;
    void this.#writeTurn(async () => {
      this.#compacting = false;
      if (storage.needsCompaction(this.#state.chunks.size)) {
        await storage.commit(this.#state, [], this.#options.onCommitStep, true);
      } else if (storage.needsVectorCheckpoint()) {
        await storage.checkpointVectors(this.#state, this.#options.onCommitStep);
      }
    })
      // A failed compaction or checkpoint leaves the log in force; the next commit tries again.
      .catch(() => {});
  }

  /**
   * Saves the vector index so that later loads do not replay the log's vectors into it (done on its
   * own once the log holds enough of them; see `compact()` for a whole new snapshot).
   */
  checkpointVectors(): Promise<void> {
    return this.#writeTurn(() => this.#storage.checkpointVectors(this.#state, this.#options.onCommitStep));
  }

  /** Writes the whole collection as a new snapshot, emptying the log. */
  compact(): Promise<void> {
    return this.#writeTurn(async () => {
      await this.#guarded(async () => {
        await this.#storage.commit(this.#state, [], this.#options.onCommitStep, true);
      });
    });
  }

  /**
   * Runs a write in its turn: after this process's earlier writes, holding the collection's writer
   * lock, over the last commit on disk (reloaded when another process committed since).
   */
  #writeTurn<TResult>(write: () => Promise<TResult>): Promise<TResult> {
    return this.#queue.run(() =>
      this.#lock.run(async () => {
        if (await this.#storage.changedOnDisk()) {
          this.#state = await this.#storage.load(Collection.#loadOptions(this.#options));
          this.#views = new Map();
          this.#dirty = false;
          this.#journal = [];
        }
        return write();
      }),
    );
  }

  /** Runs a write; if it fails, drops the uncommitted changes by reloading the last commit. */
  async #guarded<TResult>(write: () => Promise<TResult>): Promise<TResult> {
    try {
      return await write();
    } catch (error) {
      if (this.#dirty) {
        this.#state = await this.#storage.load(Collection.#loadOptions(this.#options));
        this.#views = new Map();
        this.#dirty = false;
        this.#journal = [];
      }
      throw error;
    }
  }
}
