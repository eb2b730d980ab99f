import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HnswIndex } from './hnsw-index.js';

/** Deterministic pseudo-random unit vectors. */
function vectors(count: number, dimensions: number, seed = 1): number[][] {
  let state = seed;
  const next = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  return Array.from({ length: count }, () => Array.from({ length: dimensions }, next));
}

function exactNeighbours(
  data: number[][],
  query: number[],
  k: number,
  allow: (index: number) => boolean = () => true,
) {
  const norm = (vector: number[]) => Math.hypot(...vector);
  return data
    .map((vector, index) => ({
      index,
      score: vector.reduce((sum, value, at) => sum + value * query[at]!, 0) / (norm(vector) * norm(query)),
    }))
    .filter(({ index }) => allow(index))
    .sort((left, right) => right.score - left.score)
    .slice(0, k);
}

function addAll(index: HnswIndex, data: number[][]): void {
  for (const [at, vector] of data.entries()) index.add(`v${at}`, vector);
}

describe('HnswIndex', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'rag-hnsw-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('searches vectors added `later` exactly, with the graph, and puts them into it when saved', async () => {
    const data = vectors(200, 16);
    const index = new HnswIndex({ dimensions: 16 });
    for (const [at, vector] of data.entries()) index.add(`v${at}`, vector, { later: at >= 150 });
    expect([index.size, index.native.getCurrentCount(), index.has('v170')]).toEqual([200, 150, true]);
    const query = data[160]!;
    const exact = exactNeighbours(data, query, 8);
    const results = index.search(query, { k: 8 });
    expect(results.map((result) => result.id)).toEqual(exact.map(({ index: at }) => `v${at}`));
    for (const [at, result] of results.entries()) expect(result.score).toBeCloseTo(exact[at]!.score, 5);
    const odd = (id: string) => Number(id.slice(1)) % 2 === 1;
    expect(index.search(query, { k: 4, filter: odd }).map((result) => result.id)).toEqual(
      exactNeighbours(data, query, 4, (at) => at % 2 === 1).map(({ index: at }) => `v${at}`),
    );
    expect(index.vectorOf('v160')![0]).toBeCloseTo(data[160]![0]! / Math.hypot(...data[160]!), 5);
    expect(index.delete('v160')).toBe(true);
    expect([index.size, index.has('v160')]).toEqual([199, false]);
    const path = join(directory, 'later.hnsw');
    await index.save(path);
    expect(index.native.getCurrentCount()).toBe(199);
    const loaded = await HnswIndex.load(path);
    expect(loaded.size).toBe(199);
    expect(loaded.search(data[170]!, { k: 1 })[0]!.id).toBe('v170');
  });

  it('finds the nearest ids by cosine similarity, with ef 100 by default', () => {
    const data = vectors(300, 16);
    const index = new HnswIndex({ dimensions: 16, initialCapacity: 16 });
    addAll(index, data);
    expect(index.options.ef).toBe(100);
    expect(index.native.getEf()).toBe(100);
    const query = data[7]!;
    const results = index.search(query, { k: 5 });
    expect(results[0]).toEqual({ id: 'v7', score: expect.closeTo(1, 5) });
    const exact = exactNeighbours(data, query, 5).map(({ index: at }) => `v${at}`);
    expect(results.map((result) => result.id)).toEqual(exact);
    expect(results[1]!.score).toBeCloseTo(exactNeighbours(data, query, 2)[1]!.score, 5);
  });

  it('doubles its capacity as it grows', () => {
    const index = new HnswIndex({ dimensions: 4, initialCapacity: 16 });
    addAll(index, vectors(40, 4));
    expect(index.size).toBe(40);
    expect(index.capacity).toBe(64);
  });

  it('deletes with markDelete and reuses the freed slots', () => {
    const data = vectors(32, 8);
    const index = new HnswIndex({ dimensions: 8, initialCapacity: 16 });
    addAll(index, data);
    expect(index.delete('v3')).toBe(true);
    expect(index.delete('v3')).toBe(false);
    expect(index.search(data[3]!, { k: 32 }).map((result) => result.id)).not.toContain('v3');
    const capacity = index.capacity;
    index.add('again', data[3]!);
    expect(index.capacity).toBe(capacity);
    expect(index.native.getCurrentCount()).toBe(32);
    expect(index.search(data[3]!, { k: 1 })[0]!.id).toBe('again');
  });

  it('replaces the vector of an id added again', () => {
    const [first, second] = vectors(2, 8);
    const index = new HnswIndex({ dimensions: 8 });
    index.add('x', first!);
    index.add('x', second!);
    expect(index.size).toBe(1);
    expect(index.search(second!, { k: 1 })[0]!.score).toBeCloseTo(1, 5);
  });

  it('applies the filter inside the graph search and still returns k matches', () => {
    const data = vectors(400, 16, 3);
    const index = new HnswIndex({ dimensions: 16 });
    addAll(index, data);
    const even = (id: string) => Number(id.slice(1)) % 2 === 0;
    const results = index.search(data[1]!, { k: 10, filter: even });
    expect(results).toHaveLength(10);
    expect(results.every((result) => even(result.id))).toBe(true);
  });

  it('falls back to an exact scan when a selective filter leaves the graph walk short', () => {
    const data = vectors(500, 16, 5);
    const index = new HnswIndex({ dimensions: 16, M: 4, efConstruction: 16, ef: 10 });
    addAll(index, data);
    const wanted = new Set(['v11', 'v222', 'v333', 'v444']);
    const results = index.search(data[0]!, { k: 10, filter: (id) => wanted.has(id) });
    const exact = exactNeighbours(data, data[0]!, 10, (at) => wanted.has(`v${at}`)).map(
      ({ index: at }) => `v${at}`,
    );
    expect(results.map((result) => result.id)).toEqual(exact);
  });

  it('refuses vectors of the wrong length', () => {
    const index = new HnswIndex({ dimensions: 4 });
    expect(() => index.add('x', [1, 2, 3])).toThrow(/expects 4/);
    index.add('y', [1, 2, 3, 4]);
    expect(() => index.search([1, 2], { k: 1 })).toThrow(/expects 4/);
    expect(() => new HnswIndex({ dimensions: 0 })).toThrow(/positive integer/);
  });

  it('returns nothing from an empty index and clamps k to its size', () => {
    const index = new HnswIndex({ dimensions: 4 });
    expect(index.search([1, 0, 0, 0], { k: 3 })).toEqual([]);
    index.add('a', [1, 0, 0, 0]);
    expect(index.search([1, 0, 0, 0], { k: 3 })).toHaveLength(1);
  });

  it('saves and loads the index with its id map, deletions and options', async () => {
    const data = vectors(100, 8, 9);
    const index = new HnswIndex({ dimensions: 8, M: 8, efConstruction: 50, ef: 120 });
    addAll(index, data);
    index.delete('v5');
    const path = join(directory, 'vectors.hnsw');
    await index.save(path);
    expect((await readdir(directory)).sort()).toEqual(['vectors.hnsw', 'vectors.hnsw.labels']);
    const loaded = await HnswIndex.load(path);
    expect(loaded.size).toBe(99);
    expect(loaded.options).toEqual(index.options);
    expect(loaded.native.getEf()).toBe(120);
    expect(loaded.search(data[9]!, { k: 5 })).toEqual(index.search(data[9]!, { k: 5 }));
    expect(loaded.has('v5')).toBe(false);
    // Below capacity an add takes a new slot (taking over a deleted one is kept for a full index).
    loaded.add('new', data[5]!);
    expect(loaded.native.getCurrentCount()).toBe(101);
    expect(loaded.search(data[5]!, { k: 1 })[0]!.id).toBe('new');
    expect((await HnswIndex.load(path, { ef: 30 })).native.getEf()).toBe(30);
  });
});
