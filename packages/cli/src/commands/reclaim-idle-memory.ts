import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { nativeHeapTrimmer } from './trim-native-heap.js';

/** How {@link reclaimIdleMemory} watches the process. */
export interface ReclaimIdleMemoryOptions {
  /** How often to look, ms. @default 1000 */
  intervalMs?: number;
  /**
   * How long nothing must have been in flight before the collection, ms (counted in looks: with the
   * defaults, three looks in a row). Short pauses between requests are not idleness: the collection
   * stops the process for ~0.2 s. @default 2000
   */
  idleMs?: number;
  /** Heap growth since the last settled size that is worth a collection, bytes. @default 32 MiB */
  growthBytes?: number;
  /** Idle time after the collection before the native heap is trimmed once more, ms. @default 5000 */
  settleMs?: number;
  /** Collects garbage now. @default V8's collection of all it can free (see {@link thoroughCollection}) */
  collect?: () => void;
  /**
   * Gives the allocator's free pages back to the system, after each collection. @default glibc's
   * `malloc_trim(0)` through the optional `koffi` package on Linux; nothing elsewhere
   */
  trimNativeHeap?: (() => void) | null;
  /** Bytes of the heap in use. @default `v8.getHeapStatistics().used_heap_size` */
  usedHeapBytes?: () => number;
}

/**
 * After a burst, a process keeps the memory of thousands of finished streams until it next needs
 * memory, which an idle server never does. Measured with 5,000 streams through `fusion serve`: V8
 * kept the garbage, old-space pages a plain full collection leaves half empty, and a young
 * generation grown to 32 MiB; glibc's malloc kept ~25 MB of freed socket and parser memory between
 * live blocks. So once nothing has been in flight for `idleMs` and the heap has grown by
 * `growthBytes` since it last settled, this runs V8's most thorough collection (the one it runs
 * under memory pressure: it compacts, shrinks the young generation and unmaps the freed pages;
 * ~0.2 s on an idle server) and trims the native heap; `settleMs` later, still idle, it trims again
 * for the native memory V8 freed in the background since. It never runs while requests are in
 * flight.
 *
 * @returns the function that stops watching
 */
export function reclaimIdleMemory(
  server: { readonly inFlight: number },
  options: ReclaimIdleMemoryOptions = {},
): () => void {
  const collect = options.collect ?? thoroughCollection();
  const trim = options.trimNativeHeap === undefined ? nativeHeapTrimmer() : options.trimNativeHeap;
  const usedHeapBytes = options.usedHeapBytes ?? (() => v8.getHeapStatistics().used_heap_size);
  const growthBytes = options.growthBytes ?? 32 * 2 ** 20;
  const intervalMs = options.intervalMs ?? 1000;
  const idleLooksNeeded = 1 + Math.max(1, Math.ceil((options.idleMs ?? 2000) / intervalMs));
  const settleLooks = Math.max(1, Math.ceil((options.settleMs ?? 5000) / intervalMs));
  let settledBytes = usedHeapBytes();
  let idleLooks = 0;
  // Idle looks left before the last trim, while one is owed.
  let looksToLast: number | undefined;
  const timer = setInterval(() => {
    if (server.inFlight > 0) {
      idleLooks = 0;
      if (looksToLast !== undefined) looksToLast = settleLooks;
      return;
    }
    if (++idleLooks < idleLooksNeeded) return;
    if (looksToLast === undefined) {
      if (usedHeapBytes() <= settledBytes + growthBytes) return;
      collect();
      trim?.();
      settledBytes = usedHeapBytes();
      looksToLast = settleLooks;
      return;
    }
    if (--looksToLast > 0) return;
    looksToLast = undefined;
    trim?.();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** A class with no instances: asking V8 for them costs a walk over the heap and finds nothing. */
class NoInstances {}

/**
 * V8's `CollectAllAvailableGarbage`, which `v8.queryObjects` runs before it walks the heap: the
 * collection V8 runs under memory pressure, with compaction, its young generation shrunk and the
 * freed pages unmapped. A plain `gc()` leaves partly used old-space pages and the young
 * generation as they were (measured on a heap of 100 MB with 6 MB live: a plain collection left 140
 * MB of RSS, this one 66). Where
 * `v8.queryObjects` is missing (Node before 20.13), a plain full collection.
 */
export function thoroughCollection(): () => void {
  const { queryObjects } = v8 as { queryObjects?: (ctor: unknown, options: { format: 'count' }) => number };
  if (typeof queryObjects !== 'function') return fullCollection();
  return () => {
    // Node warns once that the API is experimental; it is called here for its collection only.
    const emitWarning = process.emitWarning;
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      if (String(warning).includes('queryObjects')) return;
      (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
    }) as typeof process.emitWarning;
    try {
      queryObjects(NoInstances, { format: 'count' });
    } finally {
      process.emitWarning = emitWarning;
    }
  };
}

/** V8's `gc()`, exposed for this process if it was not started with `--expose-gc` (as Jest does). */
function fullCollection(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
