import { describe, expect, it } from 'vitest';
import { SlotIds } from './slot-ids.js';

describe('SlotIds', () => {
  it('finds the ids of stored slots both ways, and those set or deleted since', () => {
    const ids = new SlotIds(SlotIds.store(['a', 'b', null, 'c', 'é']));
    expect([ids.slotOf('a'), ids.slotOf('c'), ids.slotOf('é'), ids.slotOf('x'), ids.slotOf('')]).toEqual([
      0,
      3,
      4,
      undefined,
      undefined,
    ]);
    expect([ids.at(1), ids.at(2), ids.length]).toEqual(['b', undefined, 5]);
    ids.set(2, 'd');
    expect(ids.delete('a')).toBe(0);
    expect(ids.delete('a')).toBeUndefined();
    ids.set(5, 'e');
    ids.set(0, 'b2');
    expect([ids.slotOf('a'), ids.slotOf('d'), ids.slotOf('e'), ids.slotOf('b2')]).toEqual([
      undefined,
      2,
      5,
      0,
    ]);
    expect(Array.from({ length: ids.length }, (_, slot) => ids.at(slot))).toEqual([
      'b2',
      'b',
      'd',
      'c',
      'é',
      'e',
    ]);
    expect(ids.delete('e')).toBe(5);
    expect(ids.at(5)).toBeUndefined();
  });

  it('rebuilds a stored table that does not fit, and starts empty without stored ids', () => {
    const { table: _table, ...stored } = SlotIds.store(['x', 'y']);
    const ids = new SlotIds(stored);
    expect([ids.slotOf('y'), ids.slotOf('x')]).toEqual([1, 0]);
    const empty = new SlotIds();
    expect([empty.length, empty.slotOf('x')]).toEqual([0, undefined]);
    empty.set(0, 'x');
    expect([empty.slotOf('x'), empty.at(0)]).toEqual([0, 'x']);
  });
});
