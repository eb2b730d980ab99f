import { describe, expect, it } from 'vitest';
import { IdSlots } from './id-slots.js';

describe('IdSlots', () => {
  it('finds the ids of a loaded slot array, placed and deleted ones too, before and after the whole map is built', () => {
    const ids: (string | undefined)[] = ['a', 'b', undefined, 'c'];
    const slots = new IdSlots(ids, true);
    expect([slots.get('a'), slots.get('c'), slots.get('x')]).toEqual([0, 3, undefined]);
    ids[2] = 'd';
    slots.set('d', 2);
    ids[0] = undefined;
    slots.delete('a');
    expect([slots.get('a'), slots.get('d')]).toEqual([undefined, 2]);
    const all = slots.build();
    expect([...all].sort()).toEqual([
      ['b', 1],
      ['c', 3],
      ['d', 2],
    ]);
    ids[4] = 'e';
    slots.set('e', 4);
    expect([slots.get('e'), slots.get('b'), slots.get('a')]).toEqual([4, 1, undefined]);
  });

  it('builds the whole map once lookups outside the placed ids pass the scan limit', () => {
    const ids = Array.from({ length: 200 }, (_, index) => `id-${index}`);
    const slots = new IdSlots(ids, true);
    for (let index = 0; index < 100; index++) expect(slots.get(`id-${index}`)).toBe(index);
    // After the limit the answers come from the map: one entry per id.
    ids[5] = 'renamed';
    expect(slots.get('id-5')).toBe(5);
    expect(slots.build().size).toBe(200);
  });
});
