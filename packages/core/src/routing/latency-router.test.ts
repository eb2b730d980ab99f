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
