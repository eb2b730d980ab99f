import { FusionError } from '@fusionkit/core';
import { describe, expect, it } from 'vitest';
import { compileFilter } from './compile-filter.js';

const record = {
  lang: 'en',
  year: 2021,
  tags: ['api', 'guide'],
  draft: false,
  author: { name: 'Ada', team: 'docs' },
  sections: [{ level: 1 }, { level: 3 }],
};

const matches = (filter: Record<string, unknown>) => compileFilter(filter)(record);

describe('compileFilter', () => {
  it('matches implicit equality, also on array members and dotted paths', () => {
    expect(matches({ lang: 'en' })).toBe(true);
    expect(matches({ lang: 'fr' })).toBe(false);
    expect(matches({ tags: 'api' })).toBe(true);
    expect(matches({ tags: ['api', 'guide'] })).toBe(true);
    expect(matches({ 'author.team': 'docs' })).toBe(true);
    expect(matches({ 'sections.level': 3 })).toBe(true);
    expect(matches({ missing: null })).toBe(true);
    expect(matches({ author: { name: 'Ada', team: 'docs' } })).toBe(true);
  });

  it('supports $eq $ne $in $nin', () => {
    expect(matches({ lang: { $eq: 'en' } })).toBe(true);
    expect(matches({ lang: { $ne: 'en' } })).toBe(false);
    expect(matches({ tags: { $ne: 'blog' } })).toBe(true);
    expect(matches({ tags: { $ne: 'api' } })).toBe(false);
    expect(matches({ lang: { $in: ['fr', 'en'] } })).toBe(true);
    expect(matches({ tags: { $in: ['blog', 'guide'] } })).toBe(true);
    expect(matches({ tags: { $nin: ['blog', 'guide'] } })).toBe(false);
    expect(matches({ missing: { $nin: ['x'] } })).toBe(true);
  });

  it('compares numbers with numbers and strings with strings only', () => {
    expect(matches({ year: { $gt: 2020, $lte: 2021 } })).toBe(true);
    expect(matches({ year: { $gte: 2022 } })).toBe(false);
    expect(matches({ year: { $lt: 2021 } })).toBe(false);
    expect(matches({ year: { $gt: '2000' } })).toBe(false);
    expect(matches({ lang: { $gte: 'a', $lt: 'f' } })).toBe(true);
    expect(matches({ 'sections.level': { $gt: 2 } })).toBe(true);
    expect(matches({ missing: { $gt: 0 } })).toBe(false);
  });

  it('combines with $and, $or and several fields', () => {
    expect(matches({ $or: [{ lang: 'fr' }, { year: 2021 }] })).toBe(true);
    expect(matches({ $and: [{ lang: 'en' }, { draft: true }] })).toBe(false);
    expect(matches({ lang: 'en', draft: false, $or: [{ tags: 'x' }, { 'author.name': 'Ada' }] })).toBe(true);
  });

  it.each([
    [{ lang: { $regex: 'e' } }, /unknown operator '\$regex'/],
    [{ $nor: [] }, /unknown top-level operator/],
    [{ $or: [] }, /non-empty array/],
    [{ lang: { $in: 'en' } }, /needs an array/],
    [{ year: { $gt: { a: 1 } } }, /number or a string/],
    [{ 'a..b': 1 }, /bad field path/],
  ])('refuses %j with a 400 naming filter', (filter, message) => {
    try {
      compileFilter(filter);
      expect.unreachable();
    } catch (error) {
      expect(FusionError.isInstance(error)).toBe(true);
      expect((error as FusionError).status).toBe(400);
      expect((error as FusionError).param).toBe('filter');
      expect((error as Error).message).toMatch(message);
    }
  });

  it('refuses a filter that is not an object', () => {
    expect(() => compileFilter([] as never)).toThrow(/must be an object/);
  });
});
