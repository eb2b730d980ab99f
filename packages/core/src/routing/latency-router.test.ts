import { describe, expect, it } from 'vitest';
import { candidate, models, routeContext } from './__fixtures__/candidates.js';
import { latencyRouter } from './latency-router.js';

describe('latencyRouter', () => {
  const candidates = [
    candidate('lab/slow', { latency: { firstTokenMs: 300, totalMs: 900 } }),
    candidate('lab/fast', { latency: { firstTokenMs: 100, totalMs: 2000 } }),
    candidate('lab/new-busy', { inFlight: 2 }),
    candidate('lab/new'),
    candidate('lab/open', { circuit: 'open', latency: { firstTokenMs: 1 } }),
  ];
  const route = (options: Parameters<typeof latencyRouter>[0]) =>
    models(latencyRouter(options).doRoute(routeContext(candidates)) as { model: string }[]);

  it('ranks by time to first token, exploring unmeasured targets first (least busy first)', () => {
    expect(route({})).toEqual(['lab/new', 'lab/new-busy', 'lab/fast', 'lab/slow']);
  });

  it('ranks by total time, and can put unmeasured targets last', () => {
    expect(route({ metric: 'total', unknown: 'last' })).toEqual([
      'lab/slow',
      'lab/fast',
      'lab/new-busy',
      'lab/new',
    ]);
  });
});

describe('latencyRouter learning', () => {
  it('ranks a target timed only by non-streamed calls by its total time', () => {
    const router = latencyRouter({ exploreEvery: 0 });
    const timed = [
      candidate('lab/slow', { latency: { totalMs: 900 } }),
      candidate('lab/fast', { latency: { totalMs: 100 } }),
    ];
    expect(models(router.doRoute(routeContext(timed)) as { model: string }[])).toEqual([
      'lab/fast',
      'lab/slow',
    ]);
  });

  it('sends every slower target first in turn, every exploreEvery decisions', () => {
    const router = latencyRouter({ exploreEvery: 4 });
    const timed = [
      candidate('lab/a', { latency: { firstTokenMs: 10 } }),
      candidate('lab/b', { latency: { firstTokenMs: 20 } }),
      candidate('lab/c', { latency: { firstTokenMs: 30 } }),
    ];
    const firsts = Array.from(
      { length: 12 },
      () => (router.doRoute(routeContext(timed)) as { model: string }[])[0]!.model,
    );
    expect(firsts).toEqual([
      ...['lab/a', 'lab/a', 'lab/a', 'lab/b'],
      ...['lab/a', 'lab/a', 'lab/a', 'lab/c'],
      ...['lab/a', 'lab/a', 'lab/a', 'lab/b'],
    ]);
    expect(latencyRouter({ exploreEvery: 0 }).doRoute(routeContext(timed))).toHaveLength(3);
  });
});
