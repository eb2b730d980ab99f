import { describe, expect, it } from 'vitest';
import { candidate, models, routeContext } from './__fixtures__/candidates.js';
import { explicitRouter } from './explicit-router.js';

describe('explicitRouter', () => {
  const candidates = [
    candidate('lab/a'),
    candidate('lab/b', { healthy: false }),
    candidate('lab/c', { circuit: 'open' }),
    candidate('lab/d', { circuit: 'half-open' }),
    candidate('lab/e'),
  ];

  it('keeps the given order, skips unhealthy and open targets, puts half-open ones first (for their probe)', () => {
    const router = explicitRouter({ targets: ['lab/d', 'lab/c', 'lab/b', 'lab/e', 'lab/a'] });
    expect(models(router.doRoute(routeContext(candidates)) as { model: string }[])).toEqual([
      'lab/d',
      'lab/e',
      'lab/a',
    ]);
  });

  it('returns the given targets with their params, matched by local id or through an alias', () => {
    const fast = { model: 'fast', params: { temperature: 0 } };
    const router = explicitRouter({
      targets: ['b', fast, 'e'],
      resolve: (name) => (name === 'fast' ? 'lab/a' : undefined),
    });
    const route = router.doRoute(routeContext(candidates)) as { model: string }[];
    expect(route).toEqual([fast, { model: 'e' }]);
    expect(route[0]).toBe(fast);
  });

  it('keeps targets it cannot see unless told to skip them', () => {
    expect(
      models(
        explicitRouter({ targets: ['other/x', 'lab/d', 'lab/a'] }).doRoute(routeContext(candidates)) as {
          model: string;
        }[],
      ),
    ).toEqual(['lab/d', 'other/x', 'lab/a']);
    const strict = explicitRouter({ targets: ['other/x', 'lab/a'], unknown: 'skip' });
    expect(models(strict.doRoute(routeContext(candidates)) as { model: string }[])).toEqual(['lab/a']);
  });
});
