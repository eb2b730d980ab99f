import { afterEach, describe, expect, it, vi } from 'vitest';
import { reclaimIdleMemory } from './reclaim-idle-memory.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('reclaimIdleMemory', () => {
  it('collects twice once the server is idle after the heap grew, never while requests run', () => {
    vi.useFakeTimers();
    const server = { inFlight: 0 };
    let used = 100;
    const collections: number[] = [];
    const stop = reclaimIdleMemory(server, {
      intervalMs: 10,
      growthBytes: 50,
      usedHeapBytes: () => used,
      collect: () => {
        collections.push(Date.now());
        used = 110;
      },
    });
    vi.advanceTimersByTime(100);
    expect(collections).toHaveLength(0); // idle, but nothing grew

    server.inFlight = 3000;
    used = 400;
    vi.advanceTimersByTime(100);
    expect(collections).toHaveLength(0); // busy

    server.inFlight = 0;
    vi.advanceTimersByTime(10);
    expect(collections).toHaveLength(0); // one idle look is not yet idle
    vi.advanceTimersByTime(100);
    expect(collections).toHaveLength(2);
    stop();
  });

  it('runs V8’s own full collection when the process was started without --expose-gc', async () => {
    let looks = 0;
    const stop = reclaimIdleMemory(
      { inFlight: 0 },
      { intervalMs: 5, growthBytes: 1, usedHeapBytes: () => (looks++ === 0 ? 0 : 2 ** 40) },
    );
    // An error in the collector would surface as an uncaught exception failing this test.
    await vi.waitFor(() => expect(looks).toBeGreaterThan(4));
    stop();
  });
});
