import { type BigIntStats, statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Bm25Index } from '../lexical/bm25-index.js';
import { decodeBm25Snapshot, encodeBm25Snapshot } from '../lexical/bm25-snapshot.js';
import { fsyncPath, writeFileAtomic } from '../util/atomic-write.js';
import { readJsonLines } from '../util/json-lines.js';
import { readWholeFile } from '../util/read-whole-file.js';
import { HNSW_ID_FILE_SUFFIXES, HnswIndex } from '../vector/hnsw-index.js';
import { ChunkTable } from './chunk-table.js';
import {
  appendLog,
  encodeLogEntries,
  entryVectors,
  entryWeight,
  type LogEntry,
  readLog,
} from './commit-log.js';
import { DocumentTable } from './document-table.js';
import type { ChunkRecord, CollectionConfig, DocumentRecord } from './records.js';
import { encodeStoreSnapshot, readStoreSnapshot } from './snapshot-store.js';

/**
 * Steps of a commit, in order. A snapshot writes `store`, `bm25`, `vectors`; an incremental commit
 * appends to the `log`; a vector checkpoint writes `vectors` only. A crash before `manifest` leaves
 * the previous commit in force.
 */
export type CommitStep = 'store' | 'bm25' | 'vectors' | 'log' | 'manifest' | 'cleanup';

/** The commit record: which files make up the current state. */
export interface Manifest {
  /**
   * 2 adds the log; 3 writes binary snapshots (`store-<n>.bin`, BM25 with postings, packed vector ids).
   * Versions 1 and 2 still load, and become 3 at the next snapshot.
   */
  version: 1 | 2 | 3;
  generation: number;
  committedAt: string;
  config: CollectionConfig;
  counts: { documents: number; chunks: number };
  /** The snapshot, and the log of changes since it (`log` is the file name). */
  files: { store?: string; bm25?: string; vectors?: string; log?: string };
  /**
   * Committed length of the log in bytes (later bytes are an unfinished append), and chunks it
   * touches. `indexedBytes`: the vector file already holds the vector changes of the log up to this
   * byte (a checkpoint saved it), so a load replays only the later ones into the index; `vectors`:
   * vectors added by the log after that point.
   */
  log?: { bytes: number; weight: number; indexedBytes?: number; vectors?: number };
}

/** Everything a collection holds in memory, as loaded or about to be committed. */
export interface CollectionState {
  config: CollectionConfig;
  documents: DocumentTable;
  /** Chunks by id (those of the loaded snapshot read from its buffers when asked for). */
  chunks: ChunkTable;
  bm25: Bm25Index;
  vectors: HnswIndex | undefined;
  /** False when the vector index did not change since the last commit (its file is reused). */
  vectorsChanged: boolean;
}

/** A store snapshot of manifest version 1 or 2: one JSON line per document with its chunks. */
type StoreRow = { document: DocumentRecord; chunks: ChunkRecord[] };

/** Reads a store snapshot: binary (`.bin`, version 3) or JSON lines (older versions). */
async function readStore(path: string): Promise<{ documents: DocumentTable; chunks: ChunkTable }> {
  if (path.endsWith('.bin')) return readStoreSnapshot(path);
  const { rows } = await readJsonLines<unknown, StoreRow>(path);
  const documents = new DocumentTable();
  const chunks = new ChunkTable();
  for (const row of rows) {
    documents.set(row.document.id, row.document);
    for (const chunk of row.chunks) chunks.set(chunk.id, chunk);
  }
  return { documents, chunks };
}

const MANIFEST = 'manifest.json';

/** Compaction: the log may touch this share of the collection's chunks before a snapshot replaces it. */
const COMPACT_SHARE = 0.25;
/** ...and at least this many chunks (small collections would otherwise snapshot at every commit). */
const COMPACT_MIN = 2048;
/** Vectors added by the log since the vector file was saved, past which it is saved again (a checkpoint). */
const CHECKPOINT_VECTORS = 1024;

/** Replays a log over a loaded snapshot; the first `indexed` entries are already in the vector file. */
export type ReplayLog = (state: CollectionState, entries: LogEntry[], indexed: number) => void;

/**
 * The files of one collection in `<dir>/rag/<name>/`: a snapshot (store, BM25 and vector files) and
 * an append-only log of the changes since it. A small commit appends its changes to the log (fsync)
 * and then atomically replaces `manifest.json`, which records the log's committed length; load
 * replays the log over the snapshot and cuts off any longer tail. A large commit, or one that makes
 * the log too long, writes a new snapshot (each file atomically: temporary file, fsync, rename), then
 * the manifest naming it, and only then removes the older files. Whatever a crash interrupts, the
 * manifest on disk names a complete set.
 */
export class CollectionStorage {
  readonly directory: string;
  #manifest: Manifest | undefined;
  /** The manifest file `#manifest` was read from or written to, to tell whether another process replaced it. */
  #manifestFile: BigIntStats | undefined;

  constructor(directory: string) {
    this.directory = directory;
  }

  get manifest(): Manifest | undefined {
    return this.#manifest;
  }

  static async readManifest(directory: string): Promise<Manifest | undefined> {
    try {
      return JSON.parse(await readFile(join(directory, MANIFEST), 'utf8')) as Manifest;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Creates the directory and an empty generation-0 manifest. */
  async create(config: CollectionConfig): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const manifest: Manifest = {
      version: 1,
      generation: 0,
      committedAt: new Date().toISOString(),
      config,
      counts: { documents: 0, chunks: 0 },
      files: {},
    };
    await this.#writeManifest(manifest);
  }

  /** Loads the last committed state and removes files no commit refers to (left by a crash). */
  async load(options: { ef?: number; replay?: ReplayLog } = {}): Promise<CollectionState> {
    const { manifest, file } = await this.#readManifestFile();
    if (!manifest) throw new Error(`${this.directory} holds no collection`);
    if (manifest.version !== 1 && manifest.version !== 2 && manifest.version !== 3)
      throw new Error(`unsupported collection manifest version ${String(manifest.version)}`);
    const { files, config } = manifest;
    const at = (file: string) => join(this.directory, file);
    // The native index reads its file on a worker thread while the store and BM25 decode here.
    const [vectors, store, bm25, log] = await Promise.all([
      files.vectors
        ? HnswIndex.load(at(files.vectors), {
            ...(options.ef ? { ef: options.ef } : {}),
            ...(config.vector?.dimensions ? { dimensions: config.vector.dimensions } : {}),
          })
        : undefined,
      files.store ? readStore(at(files.store)) : undefined,
      files.bm25 ? readWholeFile(at(files.bm25)).then(decodeBm25Snapshot) : undefined,
      files.log
        ? readLog(at(files.log), manifest.log?.bytes ?? 0, manifest.log?.indexedBytes ?? 0)
        : undefined,
    ]);
    const documents = store?.documents ?? new DocumentTable();
    const chunks = store?.chunks ?? new ChunkTable();
    this.#manifest = manifest;
    this.#manifestFile = file;
    const state: CollectionState = {
      config,
      documents,
      chunks,
      bm25: bm25 ? Bm25Index.fromSnapshot(bm25) : new Bm25Index(config.bm25),
      vectors,
      vectorsChanged: false,
    };
    if (log && log.entries.length > 0) {
      if (!options.replay) throw new Error(`${this.directory} has a log but no way to replay it`);
      options.replay(state, log.entries, log.indexed);
      // A log written before checkpoints existed: count the vectors it replays into the index.
      if (manifest.log && manifest.log.vectors === undefined) {
        manifest.log.vectors = log.entries
          .slice(log.indexed)
          .reduce((sum, entry) => sum + entryVectors(entry), 0);
      }
    }
    return state;
  }

  /** The manifest and the stat of the very file it was read from (a later rename does not mix them up). */
  async #readManifestFile(): Promise<{ manifest?: Manifest; file?: BigIntStats }> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(join(this.directory, MANIFEST), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    try {
      const file = await handle.stat({ bigint: true });
      return { manifest: JSON.parse(await handle.readFile('utf8')) as Manifest, file };
    } finally {
      await handle.close();
    }
  }

  /** Writes `manifest` over the current one (atomically) and makes it this process's view. */
  async #writeManifest(manifest: Manifest): Promise<void> {
    const path = join(this.directory, MANIFEST);
    await writeFileAtomic(path, JSON.stringify(manifest, null, 2));
    this.#manifest = manifest;
    // Taken under the writer lock (or before the collection exists for anyone else): nothing replaced it since.
    this.#manifestFile = statSync(path, { bigint: true });
  }

  /**
   * Whether another process committed since this one loaded or committed. Every commit replaces the
   * manifest (a new file, renamed over it), so an unchanged stat of it answers without reading it.
   */
  async changedOnDisk(): Promise<boolean> {
    const known = this.#manifestFile;
    if (known) {
      try {
        if (sameFile(statSync(join(this.directory, MANIFEST), { bigint: true }), known)) return false;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        return true;
      }
    }
    const current = await CollectionStorage.readManifest(this.directory);
    const loaded = this.#manifest;
    return (
      !current ||
      !loaded ||
      current.generation !== loaded.generation ||
      current.committedAt !== loaded.committedAt
    );
  }

  /**
   * Removes files that the manifest on disk does not name (left by an interrupted write). Only the
   * holder of the writer lock may call it: another writer's files in the making are unnamed too.
   */
  async removeUnreferenced(): Promise<void> {
    const manifest = await CollectionStorage.readManifest(this.directory);
    if (manifest) await this.#removeUnreferenced(manifest);
  }

  /** Whether a load replays enough vectors from the log that the vector file should be saved again. */
  needsVectorCheckpoint(): boolean {
    return (this.#manifest?.log?.vectors ?? 0) >= CHECKPOINT_VECTORS;
  }

  /**
   * Saves the vector index of `state` (the committed state: nothing applied since the last commit) as
   * a new vector file and records that it holds the whole log's vector changes, so a load no longer
   * replays them into the index. The documents, chunks and BM25 index are unchanged.
   */
  async checkpointVectors(
    state: CollectionState,
    onStep?: (step: CommitStep) => void | Promise<void>,
  ): Promise<void> {
    const previous = this.#manifest;
    if (!previous?.log || !state.vectors || !previous.files.store) return;
    await onStep?.('vectors');
    const vectors = `vectors-${previous.generation}.hnsw`;
    if (vectors === previous.files.vectors) return;
    await state.vectors.save(join(this.directory, vectors));
    await onStep?.('manifest');
    const manifest: Manifest = {
      ...previous,
      version: 3,
      files: { ...previous.files, vectors },
      log: { ...previous.log, indexedBytes: previous.log.bytes, vectors: 0 },
    };
    await this.#writeManifest(manifest);
    state.vectorsChanged = false;
    await onStep?.('cleanup');
    await this.#removeUnreferenced();
  }

  /** Whether the log has grown past the compaction threshold for a collection of `chunks` chunks. */
  needsCompaction(chunks: number): boolean {
    const weight = this.#manifest?.log?.weight ?? 0;
    return weight > Math.max(COMPACT_MIN, chunks * COMPACT_SHARE);
  }

  /**
   * Commits the changes `entries` (already applied to `state`) as the next generation: appended to the
   * log when they are few, else (or with `snapshot`) as a new snapshot of `state`. `onStep` runs
   * before each step (tests make it throw, or kill the process).
   */
  async commit(
    state: CollectionState,
    entries: readonly LogEntry[],
    onStep?: (step: CommitStep) => void | Promise<void>,
    snapshot = false,
  ): Promise<Manifest> {
    const previous = this.#manifest;
    const weight = entries.reduce((sum, entry) => sum + entryWeight(entry), 0);
    const logged = (previous?.log?.weight ?? 0) + weight;
    if (
      !snapshot &&
      previous?.files.store &&
      logged <= Math.max(COMPACT_MIN, state.chunks.size * COMPACT_SHARE)
    ) {
      return this.#append(state, entries, logged, onStep);
    }
    return this.#snapshot(state, onStep);
  }

  async #append(
    state: CollectionState,
    entries: readonly LogEntry[],
    weight: number,
    onStep?: (step: CommitStep) => void | Promise<void>,
  ): Promise<Manifest> {
    const previous = this.#manifest!;
    const generation = previous.generation + 1;
    await onStep?.('log');
    const file = previous.files.log ?? `log-${previous.generation}.jsonl`;
    const path = join(this.directory, file);
    const bytes = await appendLog(path, previous.log?.bytes ?? 0, encodeLogEntries(entries));
    // A new file's name must be durable before the manifest points at it.
    if (!previous.files.log) await fsyncPath(dirname(path));
    await onStep?.('manifest');
    const vectors =
      (previous.log?.vectors ?? 0) + entries.reduce((sum, entry) => sum + entryVectors(entry), 0);
    const manifest: Manifest = {
      version: previous.version === 3 ? 3 : 2,
      generation,
      committedAt: new Date().toISOString(),
      config: state.config,
      counts: { documents: state.documents.size, chunks: state.chunks.size },
      files: { ...previous.files, log: file },
      log: {
        bytes,
        weight,
        ...(previous.log?.indexedBytes ? { indexedBytes: previous.log.indexedBytes } : {}),
        vectors,
      },
    };
    await this.#writeManifest(manifest);
    await onStep?.('cleanup');
    return manifest;
  }

  /** Writes `state` as a new snapshot with an empty log. */
  async #snapshot(
    state: CollectionState,
    onStep?: (step: CommitStep) => void | Promise<void>,
  ): Promise<Manifest> {
    const previous = this.#manifest;
    const generation = (previous?.generation ?? 0) + 1;
    const files: Manifest['files'] = {};
    await onStep?.('store');
    files.store = `store-${generation}.bin`;
    const pieces = encodeStoreSnapshot(generation, state.documents.values(), (id) => state.chunks.get(id)!);
    await writeFileAtomic(join(this.directory, files.store), async (write) => {
      for (const piece of pieces) await write(piece);
    });
    await onStep?.('bm25');
    files.bm25 = `bm25-${generation}.bin`;
    await writeFileAtomic(join(this.directory, files.bm25), encodeBm25Snapshot(state.bm25.snapshot()));
    if (state.vectors) {
      await onStep?.('vectors');
      // An unchanged vector file is reused, unless its id map is of an earlier version (JSON).
      if (state.vectorsChanged || !previous?.files.vectors || previous.version !== 3) {
        files.vectors = `vectors-${generation}.hnsw`;
        await state.vectors.save(join(this.directory, files.vectors));
      } else {
        files.vectors = previous.files.vectors;
      }
    }
    await onStep?.('manifest');
    const manifest: Manifest = {
      version: 3,
      generation,
      committedAt: new Date().toISOString(),
      config: state.config,
      counts: { documents: state.documents.size, chunks: state.chunks.size },
      files,
    };
    await this.#writeManifest(manifest);
    state.vectorsChanged = false;
    await onStep?.('cleanup');
    await this.#removeUnreferenced();
    return manifest;
  }

  /** Deletes data files (and stray temporary files) that the current manifest does not name. */
  async #removeUnreferenced(manifest = this.#manifest): Promise<void> {
    const files = manifest?.files ?? {};
    const keep = new Set<string>([MANIFEST]);
    for (const file of [files.store, files.bm25, files.vectors, files.log]) {
      if (file) {
        keep.add(file);
        for (const suffix of HNSW_ID_FILE_SUFFIXES) keep.add(`${file}${suffix}`);
      }
    }
    const entries = await readdir(this.directory);
    const stale = entries.filter(
      (entry) => !keep.has(entry) && /^(store-|bm25-|vectors-|log-|\.).*/.test(entry),
    );
    await Promise.all(stale.map((entry) => rm(join(this.directory, entry), { force: true })));
  }
}

/** The same file, unchanged: same inode, size and change times (nanoseconds where the file system has them). */
function sameFile(current: BigIntStats, known: BigIntStats): boolean {
  return (
    current.ino === known.ino &&
    current.dev === known.dev &&
    current.size === known.size &&
    current.mtimeNs === known.mtimeNs &&
    current.ctimeNs === known.ctimeNs
  );
}
