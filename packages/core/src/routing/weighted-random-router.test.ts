import { describe, expect, it } from 'vitest';
import { seededRandom } from '../test/seeded-random.js';
import { candidate, models, routeContext } from './__fixtures__/candidates.js';
import { weightedRandomRouter } from './weighted-random-router.js';

describe('weightedRandomRouter', () => {
  const candidates = [candidate('lab/a'), candidate('lab/b'), candidate('lab/c'), candidate('lab/zero')];

  it('picks the first target in proportion to the weights and leaves weight 0 out', () => {
    const router = weightedRandomRouter({
      weights: { 'lab/a': 6, 'lab/b': 3, 'lab/c': 1, 'lab/zero': 0 },
      random: seededRandom(7),
    });
    const firsts = new Map<string, number>();
    const context = routeContext(candidates);
    let lengths = 0;
    for (let index = 0; index < 10_000; index++) {
      const route = router.doRoute(context) as { model: string }[];
      lengths += route.length;
      firsts.set(route[0]!.model, (firsts.get(route[0]!.model) ?? 0) + 1);
    }
    expect(lengths).toBe(30_000);
    expect(firsts.get('lab/a')! / 10_000).toBeCloseTo(0.6, 1);
    expect(firsts.get('lab/b')! / 10_000).toBeCloseTo(0.3, 1);
    expect(firsts.get('lab/c')! / 10_000).toBeCloseTo(0.1, 1);
    expect(firsts.has('lab/zero')).toBe(false);
  });

  it('is reproducible with an injected random, and health-aware', () => {
    const route = () =>
      models(
        weightedRandomRouter({ random: seededRandom(1) }).doRoute(
          routeContext([
            candidate('lab/h', { circuit: 'half-open' }),
            ...candidates,
            candidate('lab/x', { healthy: false }),
          ]),
        ) as { model: string }[],
      );
    expect(route()).toEqual(route());
    expect(route()[0]).toBe('lab/h');
    expect(route()).not.toContain('lab/x');
  });

  it('survives a random of exactly 0', () => {
    const route = weightedRandomRouter({ random: () => 0 }).doRoute(routeContext(candidates)) as {
      model: string;
    }[];
    expect(models(route)).toEqual(['lab/a', 'lab/b', 'lab/c', 'lab/zero']);
  });
});
