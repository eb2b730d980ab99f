import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reclaimIdleMemory, thoroughCollection } from './reclaim-idle-memory.js';
import { type KoffiLike, nativeHeapTrimmer } from './trim-native-heap.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A server whose reclaimer records what it did, in order, and what was in flight each time. */
function watched(options: { settleMs?: number } = {}) {
  const server = { inFlight: 0 };
  const events: string[] = [];
  let used = 100;
  const stop = reclaimIdleMemory(server, {
    intervalMs: 10,
    idleMs: 20,
    growthBytes: 50,
    settleMs: options.settleMs ?? 30,
    usedHeapBytes: () => used,
    collect: () => {
      events.push(`collect with ${server.inFlight} in flight`);
      used = 110;
    },
    trimNativeHeap: () => events.push(`trim with ${server.inFlight} in flight`),
  });
  return {
    server,
    events,
    grow: (bytes: number) => {
      used += bytes;
    },
    stop,
  };
}

describe('thoroughCollection', () => {
  // First in the file: Node warns once per process.
  it('frees what nothing holds, without printing Node’s experimental-API warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const held = (() => new WeakRef({ payload: 'x'.repeat(1024) }))();
      // A WeakRef's target lives at least until the end of the task that made or read it.
      await new Promise((resolve) => setImmediate(resolve));
      const collect = thoroughCollection();
      collect();
      collect();
      await new Promise((resolve) => setImmediate(resolve));
      expect(held.deref()).toBeUndefined();
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('reclaimIdleMemory', () => {
  it('collects and trims once the server is idle after the heap grew, and trims again once it settled', () => {
    vi.useFakeTimers();
    const { server, events, grow, stop } = watched();
    vi.advanceTimersByTime(100);
    expect(events).toEqual([]); // idle, but nothing grew

    server.inFlight = 3000;
    grow(300);
    vi.advanceTimersByTime(100);
    expect(events).toEqual([]); // busy

    // Pauses between requests shorter than idleMs are not idleness.
    for (let pause = 0; pause < 5; pause++) {
      server.inFlight = 0;
      vi.advanceTimersByTime(20);
      server.inFlight = 1;
      vi.advanceTimersByTime(10);
    }
    expect(events).toEqual([]);

    server.inFlight = 0;
    vi.advanceTimersByTime(20);
    expect(events).toEqual([]); // two idle looks: not yet idleMs
    vi.advanceTimersByTime(10);
    expect(events).toEqual(['collect with 0 in flight', 'trim with 0 in flight']);
    vi.advanceTimersByTime(1000);
    expect(events).toEqual(['collect with 0 in flight', 'trim with 0 in flight', 'trim with 0 in flight']);
    stop();
  });

  it('postpones the last trim while requests run, and starts over only after new growth', () => {
    vi.useFakeTimers();
    const { server, events, grow, stop } = watched({ settleMs: 50 });
    grow(300);
    vi.advanceTimersByTime(30);
    expect(events).toHaveLength(2); // the first collection and trim

    // Requests keep coming back before the idle time is over: the last step waits for all of it.
    for (let round = 0; round < 5; round++) {
      vi.advanceTimersByTime(30);
      server.inFlight = 1;
      vi.advanceTimersByTime(10);
      server.inFlight = 0;
    }
    expect(events).toHaveLength(2);
    vi.advanceTimersByTime(1000);
    expect(events).toHaveLength(3);

    vi.advanceTimersByTime(1000);
    expect(events).toHaveLength(3); // settled: nothing more without growth
    grow(300);
    vi.advanceTimersByTime(1000);
    expect(events).toEqual([
      'collect with 0 in flight',
      'trim with 0 in flight',
      'trim with 0 in flight',
      'collect with 0 in flight',
      'trim with 0 in flight',
      'trim with 0 in flight',
    ]);
    stop();
  });

  it('runs V8’s collection by default, whether or not the process was started with --expose-gc', async () => {
    let looks = 0;
    const stop = reclaimIdleMemory(
      { inFlight: 0 },
      {
        intervalMs: 5,
        idleMs: 5,
        growthBytes: 1,
        settleMs: 5,
        trimNativeHeap: null,
        usedHeapBytes: () => (looks++ === 0 ? 0 : 2 ** 40),
      },
    );
    // An error in the collector would surface as an uncaught exception failing this test.
    await vi.waitFor(() => expect(looks).toBeGreaterThan(6));
    stop();
  });
});

describe('nativeHeapTrimmer', () => {
  it.runIf(process.platform === 'linux')(
    'calls malloc_trim(0) through koffi, loaded at the first trim',
    () => {
      const calls: string[] = [];
      const trim = nativeHeapTrimmer(() => {
        calls.push('load koffi');
        return {
          load: (path) => {
            calls.push(`open ${path}`);
            return {
              func: (declaration) => {
                calls.push(declaration);
                return (pad) => {
                  calls.push(`malloc_trim(${pad})`);
                  return 1;
                };
              },
            };
          },
        };
      });
      expect(calls).toEqual([]);
      trim?.();
      trim?.();
      expect(calls).toEqual([
        'load koffi',
        'open libc.so.6',
        'int malloc_trim(size_t pad)',
        'malloc_trim(0)',
        'malloc_trim(0)',
      ]);
    },
  );

  it.runIf(process.platform === 'linux')('does nothing, once tried, without koffi or glibc', () => {
    let tries = 0;
    const trim = nativeHeapTrimmer(() => {
      tries++;
      throw new Error("Cannot find module 'koffi'");
    });
    trim?.();
    trim?.();
    expect(tries).toBe(1);
  });

  const glibc = Boolean(
    (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime,
  );
  it.runIf(glibc)('calls glibc’s malloc_trim through the installed koffi', () => {
    const require = createRequire(import.meta.url);
    let answer: number | undefined;
    const trim = nativeHeapTrimmer(() => {
      const koffi = require('koffi') as KoffiLike;
      return {
        load: (path) => {
          const library = koffi.load(path);
          return {
            func: (declaration) => {
              const mallocTrim = library.func(declaration);
              return (pad) => {
                answer = mallocTrim(pad);
                return answer;
              };
            },
          };
        },
      };
    });
    trim?.();
    // 1 when memory was given back, 0 when there was none to give.
    expect([0, 1]).toContain(answer);
  });
});
