import { describe, expect, it } from 'vitest';
import { RequestBook } from './request-book.js';

describe('RequestBook', () => {
  it('forgets the oldest request past its bound, so lost end events cannot grow it', () => {
    const book = new RequestBook<number>(2);
    book.open('a', 1);
    book.open('b', 2);
    book.open('c', 3);
    expect(book.size).toBe(2);
    expect(book.get('a')).toBeUndefined();
    expect(book.close('c')).toBe(3);
    expect(book.size).toBe(1);
  });

  it('keeps a request reopened under the same id in its place, with the new record', () => {
    const book = new RequestBook<number>(2);
    book.open('a', 1);
    book.open('b', 2);
    book.open('a', 3);
    expect(book.size).toBe(2);
    book.open('c', 4);
    expect(book.get('a')).toBeUndefined();
    expect(book.get('b')).toBe(2);
    expect(book.get('c')).toBe(4);
  });

  it('takes any text as an id, also one that looks like an index or a built-in name', () => {
    const book = new RequestBook<string>();
    for (const id of ['0', '42', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '']) {
      expect(book.get(id)).toBeUndefined();
      book.open(id, `record ${id}`);
      expect(book.get(id)).toBe(`record ${id}`);
    }
    expect(book.size).toBe(7);
    expect(book.close('__proto__')).toBe('record __proto__');
    expect(book.close('42')).toBe('record 42');
    expect(book.close('42')).toBeUndefined();
    expect(book.size).toBe(5);
  });

  it('replaces only a record that is open', () => {
    const book = new RequestBook<number>();
    book.replace('a', 1);
    expect(book.get('a')).toBeUndefined();
    book.open('a', 1);
    book.replace('a', 2);
    expect(book.close('a')).toBe(2);
  });
});
