import { describe, expect, it } from 'vitest';
import { candidate, models, routeContext } from './__fixtures__/candidates.js';
import { leastBusyRouter } from './least-busy-router.js';

describe('leastBusyRouter', () => {
  it('orders by in-flight + queued + upstream queue depth, ties in candidate order', () => {
    const candidates = [
      candidate('lab/a', { inFlight: 2, queued: 1 }),
      candidate('lab/b', { upstreamQueueDepth: 3 }),
      candidate('lab/c', { inFlight: 1 }),
      candidate('lab/d', { inFlight: 1 }),
      candidate('lab/e', { healthy: false }),
      candidate('lab/f', { circuit: 'half-open' }),
    ];
    const route = leastBusyRouter().doRoute(routeContext(candidates)) as { model: string }[];
    expect(models(route)).toEqual(['lab/f', 'lab/c', 'lab/d', 'lab/a', 'lab/b']);
  });

  it('reuses its scratch space across candidate lists of any size', () => {
    const router = leastBusyRouter();
    const many = Array.from({ length: 40 }, (_, index) =>
      candidate(`lab/${index}`, { inFlight: 40 - index }),
    );
    expect(models(router.doRoute(routeContext(many)) as { model: string }[])[0]).toBe('lab/39');
    expect(router.doRoute(routeContext([candidate('lab/only')]))).toEqual([{ model: 'lab/only' }]);
    expect(router.doRoute(routeContext([]))).toEqual([]);
  });
});
