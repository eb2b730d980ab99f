import { readFile, rename, rm } from 'node:fs/promises';
import { InvalidRequestError } from '@fusionkit/core';
import hnswlib from 'hnswlib-node';
import type { ScoredId } from '../lexical/bm25-options.js';
import { TopK } from '../lexical/top-k.js';
import { fsyncPath, temporaryPathFor, writeFileAtomic } from '../util/atomic-write.js';

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

/** The id map persisted next to the native index file (`<path>.ids.json`). */
interface LabelFile {
  version: 1;
  options: Required<Omit<HnswIndexOptions, 'initialCapacity'>>;
  /** Chunk id of each label; `null` where the label was deleted. */
  ids: (string | null)[];
}

/**
 * A cosine-space hnswlib-node index keyed by string ids. Labels are allocated in order and never
 * reused; a delete marks the label deleted and later adds take over its slot (`replaceDeleted`),
 * so memory does not grow with churn. Scores are cosine similarities (`1 - distance`).
 */
export class HnswIndex {
  readonly dimensions: number;
  readonly options: Required<Omit<HnswIndexOptions, 'initialCapacity'>>;
  #native: NativeIndex;
  #ids: (string | null)[] = [];
  readonly #labels = new Map<string, number>();
  #vacant = 0;

  constructor(options: HnswIndexOptions, native?: NativeIndex) {
    if (!Number.isInteger(options.dimensions) || options.dimensions <= 0) {
      throw new InvalidRequestError('HNSW dimensions must be a positive integer', { param: 'dimensions' });
    }
    this.dimensions = options.dimensions;
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
    return this.#labels.size;
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
    return this.#labels.has(id);
  }

  /** The stored vector of `id` (normalised by the cosine space), or `undefined`. */
  vectorOf(id: string): number[] | undefined {
    const label = this.#labels.get(id);
    return label === undefined ? undefined : this.#native.getPoint(label);
  }

  /** Adds a vector under `id`, replacing the one it had. */
  add(id: string, vector: readonly number[]): void {
    if (vector.length !== this.dimensions) {
      throw new InvalidRequestError(`Vector of length ${vector.length}, index expects ${this.dimensions}`, {
        code: 'dimension_mismatch',
      });
    }
    this.delete(id);
    if (this.#vacant === 0 && this.#native.getCurrentCount() >= this.#native.getMaxElements()) {
      this.#native.resizeIndex(this.#native.getMaxElements() * 2);
    }
    const label = this.#ids.length;
    this.#native.addPoint(vector as number[], label, this.#vacant > 0);
    if (this.#vacant > 0) this.#vacant--;
    this.#ids.push(id);
    this.#labels.set(id, label);
  }

  /** Marks the vector of `id` deleted. Returns false when `id` was not indexed. */
  delete(id: string): boolean {
    const label = this.#labels.get(id);
    if (label === undefined) return false;
    this.#native.markDelete(label);
    this.#labels.delete(id);
    this.#ids[label] = null;
    this.#vacant++;
    return true;
  }

  /**
   * The `k` nearest ids, best first. With a filter, hnswlib skips rejected labels during the walk;
   * when a selective filter leaves the walk short of `k`, the matching vectors are scanned exactly.
   */
  search(vector: readonly number[], options: VectorSearchOptions): ScoredId[] {
    const k = Math.min(options.k, this.#labels.size);
    if (k <= 0) return [];
    if (vector.length !== this.dimensions) {
      throw new InvalidRequestError(
        `Query vector of length ${vector.length}, index expects ${this.dimensions}`,
        {
          code: 'dimension_mismatch',
        },
      );
    }
    const ef = options.ef ?? this.options.ef;
    if (this.#native.getEf() !== ef) this.#native.setEf(ef);
    const ids = this.#ids;
    const { filter } = options;
    const labelFilter = filter ? (label: number) => filter(ids[label]!) : undefined;
    const { neighbors, distances } = this.#native.searchKnn(vector as number[], k, labelFilter);
    if (filter && neighbors.length < k) return this.#exactSearch(vector, k, filter);
    const results: ScoredId[] = new Array(neighbors.length);
    for (let index = 0; index < neighbors.length; index++) {
      results[index] = { id: ids[neighbors[index]!]!, score: 1 - distances[index]! };
    }
    return results;
  }

  /** Brute force over the vectors the filter accepts: exact, for filters too selective for the graph. */
  #exactSearch(vector: readonly number[], k: number, filter: (id: string) => boolean): ScoredId[] {
    const norm = Math.hypot(...vector) || 1;
    const best = new TopK<string>(k);
    for (const [id, label] of this.#labels) {
      if (!filter(id)) continue;
      const point = this.#native.getPoint(label);
      let dot = 0;
      for (let index = 0; index < point.length; index++) dot += point[index]! * vector[index]!;
      best.push(id, dot / norm);
    }
    return best.sorted().map(({ item, score }) => ({ id: item, score }));
  }

  /** Writes the native index to `path` and the id map to `<path>.ids.json`, each atomically. */
  async save(path: string): Promise<void> {
    const temporary = temporaryPathFor(path);
    try {
      await this.#native.writeIndex(temporary);
      await fsyncPath(temporary);
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    const file: LabelFile = { version: 1, options: this.options, ids: this.#ids };
    await writeFileAtomic(`${path}.ids.json`, JSON.stringify(file));
  }

  /** Reads an index written by {@link HnswIndex.save}; `ef` may be changed for this process. */
  static async load(path: string, overrides: { ef?: number } = {}): Promise<HnswIndex> {
    const file = JSON.parse(await readFile(`${path}.ids.json`, 'utf8')) as LabelFile;
    if (file.version !== 1) throw new Error(`unsupported HNSW id map version ${String(file.version)}`);
    // The space must be built with the right dimension before reading: hnswlib takes the vector size from it.
    const native = new hnswlib.HierarchicalNSW('cosine', file.options.dimensions);
    await native.readIndex(path, true);
    const index = new HnswIndex({ ...file.options, ...overrides }, native);
    index.#ids = file.ids;
    file.ids.forEach((id, label) => {
      if (id !== null) index.#labels.set(id, label);
    });
    index.#vacant = native.getCurrentCount() - index.#labels.size;
    return index;
  }
}
