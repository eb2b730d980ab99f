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
});
