import hnswlib from 'hnswlib-node';
import type { ScoredId } from '../lexical/bm25-options.js';

type NativeScan = InstanceType<typeof hnswlib.BruteforceSearch>;

/**
 * Vectors waiting to go into an HNSW graph, searched exactly meanwhile: hnswlib's brute-force index
 * in the same cosine space, so scores are the ones the graph would give. Few by design (a load's
 * replayed log), so a scan is cheap next to inserting them into the graph.
 */
export class PendingVectors {
  readonly #dimensions: number;
  #native: NativeScan | undefined;
  readonly #entries = new Map<string, { vector: readonly number[]; label: number }>();
  readonly #ids = new Map<number, string>();
  #nextLabel = 0;

  constructor(dimensions: number) {
    this.#dimensions = dimensions;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** The vector of `id`, normalised as the cosine space stores it. */
  vectorOf(id: string): number[] | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    const norm = Math.hypot(...entry.vector) || 1;
    return Array.from(Float32Array.from(entry.vector, (value) => value / norm));
  }

  /** Adds (or replaces) the vector of `id`. */
  add(id: string, vector: readonly number[]): void {
    this.delete(id);
    const native = this.#capacityFor(this.#entries.size + 1);
    const label = this.#nextLabel++;
    native.addPoint(vector as number[], label);
    this.#entries.set(id, { vector, label });
    this.#ids.set(label, id);
  }

  delete(id: string): boolean {
    const entry = this.#entries.get(id);
    if (!entry) return false;
    this.#native!.removePoint(entry.label);
    this.#entries.delete(id);
    this.#ids.delete(entry.label);
    return true;
  }

  /** The `k` nearest pending vectors the filter accepts, best first. */
  search(vector: readonly number[], k: number, filter?: (id: string) => boolean): ScoredId[] {
    const count = Math.min(k, this.#entries.size);
    if (count <= 0 || !this.#native) return [];
    const ids = this.#ids;
    const labelFilter = filter ? (label: number) => filter(ids.get(label)!) : undefined;
    const { neighbors, distances } = this.#native.searchKnn(vector as number[], count, labelFilter);
    return neighbors.map((label, index) => ({ id: ids.get(label)!, score: 1 - distances[index]! }));
  }

  /** Takes every pending vector out (to insert them into the graph). */
  drain(): [string, readonly number[]][] {
    const drained = [...this.#entries].map(([id, { vector }]): [string, readonly number[]] => [id, vector]);
    this.#entries.clear();
    this.#ids.clear();
    this.#native = undefined;
    return drained;
  }

  /** The scan index with room for `count` vectors (rebuilt twice as large when full). */
  #capacityFor(count: number): NativeScan {
    if (this.#native && this.#native.getMaxElements() >= count) return this.#native;
    const native = new hnswlib.BruteforceSearch('cosine', this.#dimensions);
    native.initIndex(Math.max(64, count * 2));
    for (const [, { vector, label }] of this.#entries) native.addPoint(vector as number[], label);
    this.#native = native;
    return native;
  }
}
