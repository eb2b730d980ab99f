import { describe, expect, it } from 'vitest';
import { LatencyTracker } from './latency-tracker.js';

describe('LatencyTracker', () => {
  it('keeps an EWMA of first-token and total time per model', () => {
    const tracker = new LatencyTracker({ alpha: 0.5 });
    expect(tracker.get('lab/a')).toEqual({});
    tracker.record('lab/a', { firstTokenMs: 100, totalMs: 1000 });
    tracker.record('lab/a', { firstTokenMs: 200 });
    tracker.record('lab/a', { totalMs: 2000, firstTokenMs: Number.NaN });
    expect(tracker.get('lab/a')).toEqual({ firstTokenMs: 150, totalMs: 1500 });
    tracker.record('lab/b', { totalMs: -5 });
    expect(tracker.get('lab/b')).toEqual({ firstTokenMs: undefined, totalMs: undefined });
  });

  it('forgets models and rejects a bad alpha', () => {
    const tracker = new LatencyTracker();
    tracker.record('lab/a', { totalMs: 10 });
    tracker.record('lab/b', { totalMs: 10 });
    tracker.reset('lab/a');
    expect(tracker.get('lab/a')).toEqual({});
    tracker.reset();
    expect(tracker.get('lab/b')).toEqual({});
    expect(() => new LatencyTracker({ alpha: 0 })).toThrow(RangeError);
  });
});
