import { describe, expect, it } from 'vitest';
import { Bm25Index } from './bm25-index.js';
import { decodeBm25Snapshot, encodeBm25Snapshot } from './bm25-snapshot.js';

const plain = (text: string) => text.toLowerCase().split(/\s+/).filter(Boolean);

const corpus: Record<string, string> = {
  a: 'cats chase mice',
  b: 'dogs chase cats and cats run',
  c: 'birds sing in the morning',
  d: 'mice eat cheese',
};

function build(options = {}) {
  const index = new Bm25Index({ analyzer: plain, analyzerId: 'plain', ...options });
  for (const [id, text] of Object.entries(corpus)) index.add(id, text);
  return index;
}

/** Lucene's BM25 for one term, computed independently. */
function expected(
  tf: number,
  df: number,
  documents: number,
  length: number,
  average: number,
  k1 = 0.9,
  b = 0.4,
) {
  const idf = Math.log(1 + (documents - df + 0.5) / (df + 0.5));
  return (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length) / average));
}

describe('Bm25Index', () => {
  it('scores like Lucene BM25 with k1 0.9 and b 0.4', () => {
    const index = build();
    const average = (3 + 6 + 5 + 3) / 4;
    const results = index.search('cats', { k: 10 });
    expect(results.map((result) => result.id)).toEqual(['b', 'a']);
    expect(results[0]!.score).toBeCloseTo(expected(2, 2, 4, 6, average), 10);
    expect(results[1]!.score).toBeCloseTo(expected(1, 2, 4, 3, average), 10);
  });

  it('sums query terms and counts repeated query terms', () => {
    const index = build();
    const once = index.search('mice cheese', { k: 1 })[0]!;
    const twice = index.search('mice mice cheese', { k: 1 })[0]!;
    expect(once.id).toBe('d');
    const average = 17 / 4;
    expect(twice.score - once.score).toBeCloseTo(expected(1, 2, 4, 3, average), 10);
  });

  it('returns at most k results, best first', () => {
    const results = build().search('cats mice chase', { k: 2 });
    expect(results).toHaveLength(2);
    expect(results[0]!.score).toBeGreaterThanOrEqual(results[1]!.score);
  });

  it('deletes incrementally with the same scores as an index built without the document', () => {
    const index = build();
    expect(index.delete('b')).toBe(true);
    expect(index.delete('b')).toBe(false);
    const rebuilt = new Bm25Index({ analyzer: plain, analyzerId: 'plain' });
    for (const id of ['a', 'c', 'd']) rebuilt.add(id, corpus[id]!);
    expect(index.size).toBe(3);
    expect(index.search('cats chase mice', { k: 10 })).toEqual(rebuilt.search('cats chase mice', { k: 10 }));
    index.add('e', 'cats everywhere');
    rebuilt.add('e', 'cats everywhere');
    expect(index.search('cats', { k: 10 })).toEqual(rebuilt.search('cats', { k: 10 }));
  });

  it('replaces a document added again under the same id', () => {
    const index = build();
    index.add('a', 'nothing about felines');
    expect(index.size).toBe(4);
    expect(index.search('cats', { k: 10 }).map((result) => result.id)).toEqual(['b']);
  });

  it('never scores documents the filter rejects', () => {
    const index = build();
    const asked: string[] = [];
    const results = index.search('cats mice', {
      k: 10,
      filter: (id) => {
        asked.push(id);
        return id !== 'b';
      },
    });
    expect(results.map((result) => result.id).sort()).toEqual(['a', 'd']);
    expect(new Set(asked).size).toBe(asked.length);
    // Scratch state is reset: the next search is unfiltered again.
    expect(index.search('cats', { k: 10 }).map((result) => result.id)).toEqual(['b', 'a']);
  });

  it('returns nothing for queries without known terms, or k 0', () => {
    const index = build();
    expect(index.search('zebra', { k: 5 })).toEqual([]);
    expect(index.search('', { k: 5 })).toEqual([]);
    expect(index.search('cats', { k: 0 })).toEqual([]);
  });

  it('round-trips through a binary snapshot, dropping unused terms', () => {
    const index = build();
    index.delete('c');
    const snapshot = index.snapshot();
    expect(snapshot.header.terms).not.toContain('birds');
    const bytes = encodeBm25Snapshot(snapshot);
    const copy = Bm25Index.fromSnapshot(decodeBm25Snapshot(bytes), { analyzer: plain, analyzerId: 'plain' });
    expect(copy.size).toBe(3);
    expect(copy.search('cats mice cheese', { k: 10 })).toEqual(index.search('cats mice cheese', { k: 10 }));
    copy.delete('a');
    copy.add('f', 'cats and birds');
    index.delete('a');
    index.add('f', 'cats and birds');
    expect(copy.search('cats birds', { k: 10 })).toEqual(index.search('cats birds', { k: 10 }));
  });

  it('decodes a snapshot at an unaligned offset and refuses corrupt bytes', () => {
    const bytes = encodeBm25Snapshot(build().snapshot());
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const copy = Bm25Index.fromSnapshot(decodeBm25Snapshot(shifted.subarray(1)), {
      analyzer: plain,
      analyzerId: 'plain',
    });
    expect(copy.search('cats', { k: 10 })).toEqual(build().search('cats', { k: 10 }));
    expect(() => decodeBm25Snapshot(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated/);
    expect(() => decodeBm25Snapshot(new Uint8Array(16))).toThrow(/not a BM25 snapshot/);
  });

  it('refuses a snapshot made by another analyzer', () => {
    const snapshot = build().snapshot();
    expect(() => Bm25Index.fromSnapshot(snapshot)).toThrow(/analyzer 'plain'/);
  });

  it('uses the English analyzer by default', () => {
    const index = new Bm25Index();
    index.add('x', 'The runners were running quickly');
    expect(index.search('run', { k: 1 })[0]?.id).toBe('x');
  });
});
