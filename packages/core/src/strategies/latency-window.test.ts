import { describe, expect, it } from 'vitest';
import { LatencyWindow } from './latency-window.js';

describe('LatencyWindow', () => {
  it('gives nearest-rank quantiles over the last `size` latencies', () => {
    const window = new LatencyWindow(20);
    expect(window.quantile(0.95)).toBeUndefined();
    for (let ms = 1; ms <= 100; ms++) window.add(ms);
    window.add(Number.NaN);
    expect(window.size).toBe(20);
    // Holds 81..100.
    expect(window.quantile(0.95)).toBe(99);
    expect(window.quantile(0)).toBe(81);
    expect(window.quantile(1)).toBe(100);
  });
});
