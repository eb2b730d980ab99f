import { readFile, rename, rm } from 'node:fs/promises';
import { InvalidRequestError } from '@fusionkit/core';
import hnswlib from 'hnswlib-node';
import type { ScoredId } from '../lexical/bm25-options.js';
import { TopK } from '../lexical/top-k.js';
import { fsyncPath, temporaryPathFor, writeFileAtomic } from '../util/atomic-write.js';
import { decodeBinaryFile, encodeBinaryFile } from '../util/binary-file.js';
import { readWholeFile } from '../util/read-whole-file.js';
import { SlotIds } from '../util/slot-ids.js';
import { unpackStrings } from '../util/string-table.js';
import { PendingVectors } from './pending-vectors.js';

type NativeIndex = InstanceType<typeof hnswlib.HierarchicalNSW>;

export interface HnswIndexOptions {
  /** Vector length; every vector added or searched must have it. */
  dimensions: number;
  /** Graph degree: links per node. Higher = better recall, more memory. @default 16 */
  M?: number;
  /** Candidate list size while building. @default 200 */
  efConstruction?: number;
  /** Candidate list size while searching (recall vs speed); at least `k` is used. @default 100 */
  ef?: number;
  /** Capacity allocated up front; the index doubles it when full. @default 1024 */
  initialCapacity?: number;
  /** Seed of the level generator, for reproducible graphs. @default 100 */
  seed?: number;
}

export interface VectorSearchOptions {
  /** How many neighbours. */
  k: number;
  /** Only ids for which this returns true are returned; applied inside the graph walk. */
  filter?: (id: string) => boolean;
  /** Overrides the index's `ef` for this search. */
  ef?: number;
}

/** The id map of version 1, persisted as JSON next to the native index file (`<path>.ids.json`). */
interface LabelFile {
  version: 1;
  options: Required<Omit<HnswIndexOptions, 'initialCapacity'>>;
  /** Chunk id of each label; `null` where the label was deleted. */
  ids: (string | null)[];
}

/**
 * The id map written next to the native index file (`<path>.labels`): options, then (version 3) the
 * ids as UTF-8 bytes with offsets, deleted labels, and the ids' hash table; version 2 packed the ids.
 */
const LABELS_MAGIC = 'HNSL';

/** Files {@link HnswIndex.save} writes next to `path` (and older versions wrote), for cleanup. */
export const HNSW_ID_FILE_SUFFIXES = ['.labels', '.ids.json'] as const;

/**
 * A cosine-space hnswlib-node index keyed by string ids. Labels are allocated in order and never
 * reused; a delete marks the label deleted, and once the index is full later adds take over deleted
 * slots (`replaceDeleted`) instead of growing it, so memory does not grow with churn. Scores are cosine similarities (`1 - distance`).
 */
export class HnswIndex {
  readonly dimensions: number;
  readonly options: Required<Omit<HnswIndexOptions, 'initialCapacity'>>;
  #native: NativeIndex;
  /** The chunk id of each label (a loaded index's stay in its id file's bytes). */
  #ids = new SlotIds();
  #live = 0;
  /**
   * Vectors added with `later` (a load replaying its log), not in the graph yet: searched exactly,
   * and put into the graph when the index is saved. A load then costs no graph insert.
   */
  readonly #later: PendingVectors;
  #vacant = 0;

  constructor(options: HnswIndexOptions, native?: NativeIndex) {
    if (!Number.isInteger(options.dimensions) || options.dimensions <= 0) {
      throw new InvalidRequestError('HNSW dimensions must be a positive integer', { param: 'dimensions' });
    }
    this.dimensions = options.dimensions;
    this.#later = new PendingVectors(options.dimensions);
    this.options = {
      dimensions: options.dimensions,
      M: options.M ?? 16,
      efConstruction: options.efConstruction ?? 200,
      ef: options.ef ?? 100,
      seed: options.seed ?? 100,
    };
    if (native) {
      this.#native = native;
    } else {
      this.#native = new hnswlib.HierarchicalNSW('cosine', this.dimensions);
      this.#native.initIndex({
        maxElements: Math.max(16, options.initialCapacity ?? 1024),
        m: this.options.M,
        efConstruction: this.options.efConstruction,
        randomSeed: this.options.seed,
        allowReplaceDeleted: true,
      });
    }
    this.#native.setEf(this.options.ef);
  }

  /** Live vectors. */
  get size(): number {
    return this.#live + this.#later.size;
  }

  /** Allocated slots (grows by doubling). */
  get capacity(): number {
    return this.#native.getMaxElements();
  }

  /** The hnswlib-node index underneath, for benchmarks and diagnostics. Do not mutate it. */
  get native(): NativeIndex {
    return this.#native;
  }

  has(id: string): boolean {
    return this.#later.has(id) || this.#ids.slotOf(id) !== undefined;
  }

  /** The stored vector of `id` (normalised by the cosine space), or `undefined`. */
  vectorOf(id: string): number[] | undefined {
    const later = this.#later.vectorOf(id);
    if (later) return later;
    const label = this.#ids.slotOf(id);
    return label === undefined ? undefined : this.#native.getPoint(label);
  }

  /**
   * Adds a vector under `id`, replacing the one it had. `absent: true` says the caller knows `id` is
   * not indexed, which saves looking it up. `later: true` keeps it out of the graph until the index is
   * saved (searches scan such vectors exactly): for a few vectors that must be searchable at once,
   * e.g. those a load replays from the log.
   */
  add(id: string, vector: readonly number[], options: { absent?: boolean; later?: boolean } = {}): void {
    if (vector.length !== this.dimensions) {
      throw new InvalidRequestError(`Vector of length ${vector.length}, index expects ${this.dimensions}`, {
        code: 'dimension_mismatch',
      });
    }
    if (!options.absent) this.delete(id);
    if (options.later) {
      this.#later.add(id, vector);
      return;
    }
    this.#insert(id, vector);
  }

  #insert(id: string, vector: readonly number[]): void {
    // Taking over a deleted slot makes hnswlib repair the neighbours' links (`updatePoint`), several
    // times the work of a plain insert: do it only when the index is full, instead of growing it.
    const full = this.#native.getCurrentCount() >= this.#native.getMaxElements();
    const replace = full && this.#vacant > 0;
    if (full && !replace) this.#native.resizeIndex(this.#native.getMaxElements() * 2);
    const label = this.#ids.length;
    this.#native.addPoint(vector as number[], label, replace);
    if (replace) this.#vacant--;
    this.#ids.set(label, id);
    this.#live++;
  }

  /** Marks the vector of `id` deleted. Returns false when `id` was not indexed. */
  delete(id: string): boolean {
    if (this.#later.delete(id)) return true;
    const label = this.#ids.delete(id);
    if (label === undefined) return false;
    this.#native.markDelete(label);
    this.#live--;
    this.#vacant++;
    return true;
  }

  /**
   * The `k` nearest ids, best first. With a filter, hnswlib skips rejected labels during the walk;
   * when a selective filter leaves the walk short of `k`, the matching vectors are scanned exactly.
   */
  search(vector: readonly number[], options: VectorSearchOptions): ScoredId[] {
    const k = Math.min(options.k, this.size);
    if (k <= 0) return [];
    if (vector.length !== this.dimensions) {
      throw new InvalidRequestError(
        `Query vector of length ${vector.length}, index expects ${this.dimensions}`,
        {
          code: 'dimension_mismatch',
        },
      );
    }
    const graph = this.#searchGraph(vector, Math.min(k, this.#live), options);
    if (this.#later.size === 0) return graph;
    const best = new TopK<string>(k);
    for (const hit of [...graph, ...this.#later.search(vector, k, options.filter)])
      best.push(hit.id, hit.score);
    return best.sorted().map(({ item, score }) => ({ id: item, score }));
  }

  #searchGraph(vector: readonly number[], k: number, options: VectorSearchOptions): ScoredId[] {
    if (k <= 0) return [];
    const ef = options.ef ?? this.options.ef;
    if (this.#native.getEf() !== ef) this.#native.setEf(ef);
    const ids = this.#ids;
    const { filter } = options;
    const labelFilter = filter ? (label: number) => filter(ids.at(label)!) : undefined;
    const { neighbors, distances } = this.#native.searchKnn(vector as number[], k, labelFilter);
    if (filter && neighbors.length < k) return this.#exactSearch(vector, k, filter);
    const results: ScoredId[] = new Array(neighbors.length);
    for (let index = 0; index < neighbors.length; index++) {
      results[index] = { id: ids.at(neighbors[index]!)!, score: 1 - distances[index]! };
    }
    return results;
  }

  /** Brute force over the vectors the filter accepts: exact, for filters too selective for the graph. */
  #exactSearch(vector: readonly number[], k: number, filter: (id: string) => boolean): ScoredId[] {
    const norm = Math.hypot(...vector) || 1;
    const best = new TopK<string>(k);
    for (let label = 0; label < this.#ids.length; label++) {
      const id = this.#ids.at(label);
      if (id === undefined || !filter(id)) continue;
      const point = this.#native.getPoint(label);
      let dot = 0;
      for (let index = 0; index < point.length; index++) dot += point[index]! * vector[index]!;
      best.push(id, dot / norm);
    }
    return best.sorted().map(({ item, score }) => ({ id: item, score }));
  }

  /**
   * Writes the native index to `path` and the id map to `<path>.labels`, each atomically (vectors
   * added with `later` go into the graph first).
   */
  async save(path: string): Promise<void> {
    for (const [id, vector] of this.#later.drain()) this.#insert(id, vector);
    const temporary = temporaryPathFor(path);
    try {
      await this.#native.writeIndex(temporary);
      await fsyncPath(temporary);
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    const ids = SlotIds.store(Array.from({ length: this.#ids.length }, (_, label) => this.#ids.at(label)));
    const pieces = encodeBinaryFile(
      LABELS_MAGIC,
      { version: 3, options: this.options },
      {
        idOffsets: ids.offsets,
        idData: ids.data,
        deleted: ids.empty,
        idTable: new Uint32Array(ids.table.buffer, ids.table.byteOffset, ids.table.length),
      },
    );
    await writeFileAtomic(`${path}.labels`, async (write) => {
      for (const piece of pieces) await write(piece);
    });
  }

  /** Reads an index written by {@link HnswIndex.save} (or its JSON id map of version 1); `ef` may be changed for this process. */
  static async load(path: string, overrides: { ef?: number; dimensions?: number } = {}): Promise<HnswIndex> {
    // The space must be built with the right dimension before reading: hnswlib takes the vector size
    // from it. Known up front, the native read (on a worker thread) starts before the id map's.
    const early = overrides.dimensions ? readNative(path, overrides.dimensions) : undefined;
    // Handled below; this only keeps a failed id map read from leaving it unhandled.
    early?.catch(() => {});
    const { options, ids, deleted } = await readLabels(path);
    if (early && options.dimensions !== overrides.dimensions) {
      throw new Error(`${path} holds ${options.dimensions}-d vectors, not ${overrides.dimensions}`);
    }
    const native = await (early ?? readNative(path, options.dimensions));
    const index = new HnswIndex({ ...options, ...(overrides.ef ? { ef: overrides.ef } : {}) }, native);
    index.#ids = ids;
    index.#live = ids.length - deleted;
    index.#vacant = native.getCurrentCount() - index.#live;
    return index;
  }
}

async function readNative(path: string, dimensions: number): Promise<NativeIndex> {
  const native = new hnswlib.HierarchicalNSW('cosine', dimensions);
  await native.readIndex(path, true);
  return native;
}

/** The id map of an index file: `<path>.labels`, else the JSON `<path>.ids.json` of version 1. */
async function readLabels(
  path: string,
): Promise<{ options: LabelFile['options']; ids: SlotIds; deleted: number }> {
  let bytes: Buffer;
  try {
    bytes = await readWholeFile(`${path}.labels`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const file = JSON.parse(await readFile(`${path}.ids.json`, 'utf8')) as LabelFile;
    if (file.version !== 1) throw new Error(`unsupported HNSW id map version ${String(file.version)}`);
    return labelsOf(file.options, file.ids);
  }
  const file = decodeBinaryFile<{ version: number; options: LabelFile['options'] }>(LABELS_MAGIC, bytes);
  const { version, options } = file.header;
  if (version !== 2 && version !== 3) throw new Error(`unsupported HNSW id map version ${String(version)}`);
  const deleted = file.bytes('deleted');
  if (version === 2) {
    const ids = unpackStrings({
      lengths: file.uint32('lengths'),
      pieces: file.uint32('pieces'),
      data: file.bytes('data'),
    });
    if (deleted.length !== ids.length) throw new Error(`${path}.labels is corrupt`);
    return labelsOf(
      options,
      ids.map((id, label) => (deleted[label] === 1 ? null : id)),
    );
  }
  const table = file.uint32('idTable');
  try {
    const ids = new SlotIds({
      offsets: file.uint32('idOffsets'),
      data: file.bytes('idData'),
      empty: deleted,
      table: new Int32Array(table.buffer, table.byteOffset, table.length),
    });
    return { options, ids, deleted: deleted.reduce((sum, flag) => sum + flag, 0) };
  } catch (error) {
    throw new Error(`${path}.labels is corrupt: ${(error as Error).message}`);
  }
}

/** The id map of an older file, from its ids (`null`: a deleted label). */
function labelsOf(options: LabelFile['options'], ids: (string | null)[]) {
  const deleted = ids.filter((id) => id === null).length;
  return { options, ids: new SlotIds(SlotIds.store(ids)), deleted };
}
