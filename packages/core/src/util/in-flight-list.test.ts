import { describe, expect, it } from 'vitest';
import { seededRandom } from '../test/seeded-random.js';
import { InFlightList } from './in-flight-list.js';

describe('InFlightList', () => {
  it('keeps the items in the order they were added, and removes any of them', () => {
    const list = new InFlightList<string>();
    const a = list.add('a');
    const b = list.add('b');
    const c = list.add('c');
    const d = list.add('d');
    expect([...list]).toEqual(['a', 'b', 'c', 'd']);
    list.remove(b);
    expect([...list]).toEqual(['a', 'c', 'd']);
    list.remove(a);
    list.remove(d);
    expect([...list]).toEqual(['c']);
    expect(list.size).toBe(1);
    list.remove(c);
    expect([...list]).toEqual([]);
    expect(list.size).toBe(0);
    list.add('e');
    expect([...list]).toEqual(['e']);
  });

  it('ignores a second removal of the same entry', () => {
    const list = new InFlightList<number>();
    const one = list.add(1);
    list.add(2);
    list.remove(one);
    list.remove(one);
    expect([...list]).toEqual([2]);
    expect(list.size).toBe(1);
  });

  it('iterates over a copy, so items may be removed while it is read', () => {
    const list = new InFlightList<number>();
    const entries = [1, 2, 3, 4].map((value) => list.add(value));
    const seen: number[] = [];
    for (const value of list) {
      seen.push(value);
      for (const entry of entries) list.remove(entry);
    }
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(list.size).toBe(0);
  });

  it('matches a Set under random adds and removes', () => {
    const list = new InFlightList<number>();
    const set = new Set<number>();
    const entries = new Map<number, ReturnType<typeof list.add>>();
    const random = seededRandom(7);
    for (let step = 0; step < 2000; step++) {
      const value = Math.floor(random() * 50);
      if (set.has(value)) {
        set.delete(value);
        list.remove(entries.get(value)!);
        entries.delete(value);
      } else {
        set.add(value);
        entries.set(value, list.add(value));
      }
      expect(list.size).toBe(set.size);
    }
    expect([...list]).toEqual([...set]);
  });
});
