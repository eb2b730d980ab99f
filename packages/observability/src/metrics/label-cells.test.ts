import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CellCounter, CellHistogram } from './label-cells.js';

const BUCKETS = [0.01, 0.1, 1, 10];
const OBSERVATIONS: [route: string, status: number, seconds: number][] = [
  ['/v1/chat/completions', 200, 0.004],
  ['/v1/chat/completions', 200, 0.01],
  ['/v1/chat/completions', 200, 0.5],
  ['/v1/chat/completions', 500, 12],
  ['/v1/models', 200, 0.05],
  ['/v1/chat/completions', 200, 1],
];

describe('cell metrics', () => {
  it('expose exactly what prom-client’s own counter and histogram expose for the same events', async () => {
    const reference = new Registry();
    const counter = new Counter({
      name: 'requests',
      help: 'h',
      labelNames: ['route', 'status'],
      registers: [reference],
    });
    const histogram = new Histogram({
      name: 'duration',
      help: 'h',
      labelNames: ['route', 'status'],
      buckets: BUCKETS,
      registers: [reference],
    });
    const cells = new Registry();
    const cellCounter = new CellCounter(cells, 'requests', 'h', ['route', 'status']);
    const cellHistogram = new CellHistogram(cells, 'duration', 'h', ['route', 'status'], BUCKETS);

    for (const [route, status, seconds] of OBSERVATIONS) {
      counter.inc({ route, status: String(status) });
      histogram.observe({ route, status: String(status) }, seconds);
      cellCounter.at(route, status).add();
      cellHistogram.at(route, status).observe(seconds);
    }
    expect(await cells.metrics()).toBe(await reference.metrics());

    // A second scrape adds only what came since the first.
    counter.inc({ route: '/v1/models', status: '200' }, 3);
    cellCounter.at('/v1/models', 200).add(3);
    histogram.observe({ route: '/v1/models', status: '200' }, 2);
    cellHistogram.at('/v1/models', 200).observe(2);
    expect(await cells.metrics()).toBe(await reference.metrics());
  });

  it('show a tuple with 0 once it has a cell, and skip values that are not numbers', async () => {
    const registry = new Registry();
    const tokens = new CellCounter(registry, 'tokens', 'h', ['direction']);
    const duration = new CellHistogram(registry, 'duration', 'h', ['model'], BUCKETS);
    tokens.at('prompt').add(0);
    duration.at('m').observe(Number.NaN);
    const text = await registry.metrics();
    expect(text).toContain('tokens{direction="prompt"} 0');
    expect(text).toContain('duration_count{model="m"} 0');
  });

  it('refuse more labels than a cell tree holds', () => {
    expect(() => new CellCounter(new Registry(), 'x', 'h', ['a', 'b', 'c', 'd', 'e'])).toThrow(RangeError);
  });
});
