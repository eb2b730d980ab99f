import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FusionTrace } from '../spec/strategy/v1/fusion-trace.js';
import { type KeyvLike, TraceStore } from './trace-store.js';

const traceOf = (id: string): FusionTrace => ({
  id,
  requestId: `request-${id}`,
  model: 'fusion/test',
  strategy: 'single',
  startedAt: 0,
  calls: [],
});

afterEach(() => {
  vi.useRealTimers();
});

describe('TraceStore', () => {
  it('keeps at most maxEntries traces, dropping the oldest first', async () => {
    const store = new TraceStore({ maxEntries: 3 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) await store.set(traceOf(id));
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('b')).toBeUndefined();
    for (const id of ['c', 'd', 'e']) expect((await store.get(id))?.id).toBe(id);
  });

  it('counts a trace stored again as the newest', async () => {
    const store = new TraceStore({ maxEntries: 2 });
    await store.set(traceOf('a'));
    await store.set(traceOf('b'));
    await store.set(traceOf('a'));
    await store.set(traceOf('c'));
    expect(await store.get('b')).toBeUndefined();
    expect((await store.get('a'))?.id).toBe('a');
  });

  it('forgets a trace after ttlMs', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const store = new TraceStore({ ttlMs: 1000 });
    await store.set(traceOf('a'));
    vi.setSystemTime(1_000_999);
    expect((await store.get('a'))?.id).toBe('a');
    vi.setSystemTime(1_001_000);
    expect(await store.get('a')).toBeUndefined();
  });

  it('hands a custom keyv the ttl', async () => {
    const saved: { key: string; ttl: number | undefined }[] = [];
    const values = new Map<string, FusionTrace>();
    const keyv: KeyvLike<FusionTrace> = {
      get: async (key) => values.get(key),
      set: async (key, value, ttl) => {
        saved.push({ key, ttl });
        values.set(key, value);
      },
    };
    const store = new TraceStore({ keyv, ttlMs: 5000, maxEntries: 1 });
    await store.set(traceOf('a'));
    await store.set(traceOf('b'));
    expect(saved).toEqual([
      { key: 'a', ttl: 5000 },
      { key: 'b', ttl: 5000 },
    ]);
    expect((await store.get('a'))?.id).toBe('a');
  });
});
