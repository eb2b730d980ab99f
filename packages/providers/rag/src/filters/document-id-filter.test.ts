import { describe, expect, it } from 'vitest';
import { showDocumentIds } from './document-id-filter.js';

const toShown = (id: string) =>
  id.startsWith('file:///srv/') ? `file:${id.slice('file:///srv/'.length)}` : id;

describe('showDocumentIds', () => {
  it('maps the values of documentId and uri conditions, in $and and $or too', () => {
    expect(
      showDocumentIds(
        {
          documentId: 'file:///srv/docs/a.md',
          uri: { $in: ['file:///srv/docs/b.md', 'file:docs/c.md'], $ne: 'file:///srv/docs/d.md' },
          $or: [{ documentId: { $nin: ['file:///srv/docs/e.md'] } }, { team: 'file:///srv/docs/a.md' }],
          $and: [{ uri: { $eq: 'file:///srv/docs/f.md' } }],
        },
        toShown,
      ),
    ).toEqual({
      documentId: 'file:docs/a.md',
      uri: { $in: ['file:docs/b.md', 'file:docs/c.md'], $ne: 'file:docs/d.md' },
      $or: [{ documentId: { $nin: ['file:docs/e.md'] } }, { team: 'file:///srv/docs/a.md' }],
      $and: [{ uri: { $eq: 'file:docs/f.md' } }],
    });
  });

  it('leaves other fields, range operators and shapes it does not understand as they are', () => {
    const filter = { documentId: { $gt: 'file:///srv/a', $in: 'not a list' }, $or: 'bad', lang: 'en' };
    expect(showDocumentIds(filter as never, toShown)).toEqual(filter);
    expect(showDocumentIds('nope' as never, toShown)).toBe('nope');
  });
});
